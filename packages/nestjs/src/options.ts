import type { GracefulOptions, Logger } from '@graceful/core'
import type { InjectionToken, LoggerService, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common'
import { toGracefulLogger } from './logger.js'

/**
 * Options of {@link GracefulModule.forRoot}: every option of the core
 * (`createGraceful`), with `logger` widened to what Nest apps have.
 */
export interface GracefulModuleOptions extends Omit<GracefulOptions, 'logger'> {
  /**
   * Where warnings, errors and the drain's progress go. A Nest `LoggerService`
   * (e.g. `new Logger('Shutdown')`), a pino-shaped logger (`{ debug, info, warn, error }`),
   * or `false` for silence.
   * @default new Logger('Graceful'): Nest's logger, so the app's logger configuration applies
   */
  logger?: Logger | LoggerService | false
}

/**
 * A class that gives the options, for `forRootAsync({ useClass })` or
 * `forRootAsync({ useExisting })`: Nest instantiates (or finds) it and calls
 * `createGracefulOptions()`, the same way `TypeOrmModule` calls `createTypeOrmOptions()`.
 *
 * @example
 * @Injectable()
 * export class ShutdownConfig implements GracefulOptionsFactory {
 *   constructor (private readonly config: ConfigService) {}
 *   createGracefulOptions () { return { timeout: this.config.get('SHUTDOWN_TIMEOUT', 10_000) } }
 * }
 */
export interface GracefulOptionsFactory {
  createGracefulOptions: () => GracefulModuleOptions | Promise<GracefulModuleOptions>
}

/** What every form of {@link GracefulModuleAsyncOptions} may add. */
interface AsyncBase {
  /** Modules whose providers the factory (or the class) injects. */
  imports?: ModuleMetadata['imports']
}

/**
 * Options of {@link GracefulModule.forRootAsync}: the options come from a
 * factory, e.g. one reading `ConfigService` (`useFactory`), from a class Nest
 * instantiates (`useClass`), or from a provider that already exists in an
 * imported module (`useExisting`). Exactly one of the three.
 *
 * @example
 * GracefulModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ timeout: config.get('SHUTDOWN_TIMEOUT', 10_000) }),
 * })
 * GracefulModule.forRootAsync({ imports: [ConfigModule], useClass: ShutdownConfig })
 * GracefulModule.forRootAsync({ imports: [SharedConfigModule], useExisting: ShutdownConfig })
 */
export type GracefulModuleAsyncOptions =
  | AsyncBase & {
    /** Tokens passed to `useFactory`, in order. */
    inject?: (InjectionToken | OptionalFactoryDependency)[]
    useFactory: (...args: never[]) => GracefulModuleOptions | Promise<GracefulModuleOptions>
    useClass?: never
    useExisting?: never
  }
  | AsyncBase & {
    /** Instantiated by Nest inside this module, its constructor injected from `imports`. */
    useClass: Type<GracefulOptionsFactory>
    useFactory?: never
    useExisting?: never
    inject?: never
  }
  | AsyncBase & {
    /** The token of a provider exported by one of `imports` (or a global module): not instantiated again. */
    useExisting: InjectionToken<GracefulOptionsFactory>
    useFactory?: never
    useClass?: never
    inject?: never
  }

/** The core's options: the logger resolved, nothing else changed (and the input never mutated). */
export function toCoreOptions (options: GracefulModuleOptions): GracefulOptions {
  // Not an object: the core refuses it with an error naming `options`.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options as GracefulOptions
  return { ...options, logger: toGracefulLogger(options.logger) }
}
