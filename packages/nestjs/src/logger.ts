import type { Logger as GracefulLogger } from '@graceful/core'
import { fromNest, noop } from '@graceful/core/adapter'
import { Logger, type LoggerService } from '@nestjs/common'

const silent: GracefulLogger = { debug: noop, info: noop, warn: noop, error: noop }

/**
 * The logger the core gets. By default Nest's own `Logger` with the context
 * `Graceful`, so lines go wherever the app's logger goes (`app.useLogger()`,
 * `NestFactory.create(…, { logger })`) in its format. A Nest `LoggerService`
 * (`log`, `warn`, `error`, …) goes through the core's one Nest bridge (the same
 * lines as `createGraceful({ logger })` prints); a pino-shaped logger (with
 * `info`) is used as it is; `false` silences.
 */
export function toGracefulLogger (logger: GracefulLogger | LoggerService | false | undefined): GracefulLogger | undefined {
  if (logger === false) return silent
  if (logger === undefined) return fromNest(new Logger('Graceful'))
  if (typeof logger === 'object' && logger !== null && typeof (logger as Partial<GracefulLogger>).info !== 'function' &&
      typeof (logger as Partial<LoggerService>).log === 'function') {
    return fromNest(logger as LoggerService)
  }
  // Anything else goes to the core, which validates it and names the option.
  return logger as GracefulLogger
}
