import { invalidOption, resolveOptions } from '@graceful/core/adapter'
import type { DynamicModule, Provider } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { createBridge, type Bridge } from './bridge.js'
import { toCoreOptions, type GracefulModuleAsyncOptions, type GracefulModuleOptions, type GracefulOptionsFactory } from './options.js'
import { GRACEFUL, GRACEFUL_BRIDGE, GRACEFUL_OPTIONS } from './tokens.js'

// No decorator here: a dynamic module needs none, and the package compiles
// without `experimentalDecorators` / `emitDecoratorMetadata`.
const providers: Provider[] = [
  { provide: GRACEFUL_BRIDGE, useFactory: createBridge, inject: [GRACEFUL_OPTIONS, HttpAdapterHost] },
  { provide: GRACEFUL, useFactory: (bridge: Bridge) => bridge.core, inject: [GRACEFUL_BRIDGE] },
]

/**
 * Graceful shutdown for a Nest app, on the Express and the Fastify platform.
 * Global: inject the core handle anywhere with `@InjectGraceful()`. Pair it
 * with `enableGracefulShutdown(app)` in `main.ts`.
 *
 * @example
 * @Module({ imports: [GracefulModule.forRoot({ timeout: 10_000, readinessDelay: 5_000 })] })
 * export class AppModule {}
 */
export class GracefulModule {
  /**
   * Options are validated now, when the module is declared: a bad one throws a
   * `TypeError` with code `ERR_GRACEFUL_INVALID_OPTION` naming it.
   */
  static forRoot (options: GracefulModuleOptions = {}): DynamicModule {
    resolveOptions(toCoreOptions(options))
    return {
      module: GracefulModule,
      global: true,
      providers: [{ provide: GRACEFUL_OPTIONS, useValue: options }, ...providers],
      exports: [GRACEFUL],
    }
  }

  /**
   * Options from a factory (`useFactory`, e.g. reading `ConfigService`), a class
   * (`useClass`) or an existing provider (`useExisting`) whose
   * `createGracefulOptions()` gives them: the three forms of Nest's
   * `ConfigurableModuleBuilder`. Validated when Nest resolves them: a bad one
   * fails the app's creation, naming the option.
   */
  static forRootAsync (options: GracefulModuleAsyncOptions): DynamicModule {
    const optionsProvided = optionsProviders(options)
    return {
      module: GracefulModule,
      global: true,
      imports: options.imports ?? [],
      providers: [...optionsProvided, ...providers],
      exports: [GRACEFUL],
    }
  }
}

/** The providers that give `GRACEFUL_OPTIONS`, for whichever form `forRootAsync()` got. */
function optionsProviders (options: GracefulModuleAsyncOptions): Provider[] {
  const forms = (['useFactory', 'useClass', 'useExisting'] as const).filter((form) => options?.[form] !== undefined)
  const [form] = forms
  if (form === undefined || forms.length > 1) {
    throw invalidOption('forRootAsync', 'an object with exactly one of useFactory, useClass or useExisting', form === undefined ? options : forms.join(' and '))
  }
  if (form === 'useFactory') {
    if (typeof options.useFactory !== 'function') throw invalidOption(form, 'a function', options.useFactory)
    return [{ provide: GRACEFUL_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }]
  }
  // Nest resolves the class (or the existing provider), then we ask it, as ConfigurableModuleBuilder does.
  const create = (factory: Partial<GracefulOptionsFactory> | null) => {
    if (typeof factory?.createGracefulOptions !== 'function') throw invalidOption(form, 'a provider with a createGracefulOptions() method', factory)
    return factory.createGracefulOptions()
  }
  if (form === 'useClass') {
    if (typeof options.useClass !== 'function') throw invalidOption(form, 'a class', options.useClass)
    return [{ provide: options.useClass, useClass: options.useClass }, { provide: GRACEFUL_OPTIONS, useFactory: create, inject: [options.useClass] }]
  }
  const existing = options.useExisting
  if (existing === undefined || existing === null) throw invalidOption(form, 'an injection token', existing)
  return [{ provide: GRACEFUL_OPTIONS, useFactory: create, inject: [existing] }]
}
