import type { Logger as GracefulLogger } from '@graceful/core'
import { noop } from '@graceful/core/adapter'
import { Logger, type LoggerService } from '@nestjs/common'
import { inspect } from 'node:util'

const silent: GracefulLogger = { debug: noop, info: noop, warn: noop, error: noop }

/**
 * The logger the core gets. By default Nest's own `Logger` with the context
 * `Graceful`, so lines go wherever the app's logger goes (`app.useLogger()`,
 * `NestFactory.create(…, { logger })`) in its format. A Nest `LoggerService`
 * (`log`, `warn`, `error`, …) is adapted; a pino-shaped logger (with `info`)
 * is used as it is; `false` silences.
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

/** Nest loggers take a message (and a stack for errors): the fields follow the message. */
function fromNest (nest: LoggerService): GracefulLogger {
  return {
    debug: (fields, message) => { (nest.debug ?? nest.log).call(nest, line(fields, message)) },
    info: (fields, message) => { nest.log(line(fields, message)) },
    warn: (fields, message) => { nest.warn(line(fields, message)) },
    error: (fields, message) => {
      const { err, ...rest } = fields
      if (err instanceof Error) nest.error(line(rest, message), err.stack)
      else nest.error(line(fields, message))
    },
  }
}

function line (fields: Record<string, unknown>, message: string): string {
  if (Object.keys(fields).length === 0) return message
  try {
    return `${message} ${JSON.stringify(fields, (_key, value: unknown) => value instanceof Error ? value.message : value)}`
  } catch {
    return `${message} ${inspect(fields, { breakLength: Infinity, depth: 4 })}`
  }
}
