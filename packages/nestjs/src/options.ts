import type { GracefulOptions, Logger } from '@graceful/core'
import type { InjectionToken, LoggerService, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common'
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
 * Options of {@link GracefulModule.forRootAsync}: the options come from a
 * factory, e.g. one reading `ConfigService`.
 *
 * @example
 * GracefulModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ timeout: config.get('SHUTDOWN_TIMEOUT', 10_000) }),
 * })
 */
export interface GracefulModuleAsyncOptions {
  /** Modules whose providers the factory injects. */
  imports?: ModuleMetadata['imports']
  /** Tokens passed to `useFactory`, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[]
  useFactory: (...args: never[]) => GracefulModuleOptions | Promise<GracefulModuleOptions>
}

/** The core's options: the logger resolved, nothing else changed (and the input never mutated). */
export function toCoreOptions (options: GracefulModuleOptions): GracefulOptions {
  // Not an object: the core refuses it with an error naming `options`.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options as GracefulOptions
  return { ...options, logger: toGracefulLogger(options.logger) }
}
