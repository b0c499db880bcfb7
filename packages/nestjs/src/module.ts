import { resolveOptions } from '@graceful/core/adapter'
import type { DynamicModule, Provider } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { createBridge, type Bridge } from './bridge.js'
import { toCoreOptions, type GracefulModuleAsyncOptions, type GracefulModuleOptions } from './options.js'
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

  /** Options from a factory (e.g. `ConfigService`), validated when Nest calls it. */
  static forRootAsync (options: GracefulModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new TypeError('graceful: GracefulModule.forRootAsync() needs a useFactory function')
    }
    return {
      module: GracefulModule,
      global: true,
      imports: options.imports ?? [],
      providers: [{ provide: GRACEFUL_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }, ...providers],
      exports: [GRACEFUL],
    }
  }
}
