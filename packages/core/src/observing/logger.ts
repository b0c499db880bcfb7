import { debuglog } from 'node:util'
import { invalidOption } from '../support/errors.js'
import { createObservers } from './observers.js'
import type { Logger } from '../types/lifecycle.js'
import { noop } from '../support/noop.js'
import type { NestLikeLogger } from '../types/options.js'

const debug = debuglog('graceful')

type Level = 'debug' | 'info' | 'warn' | 'error'
const levels: readonly Level[] = ['debug', 'info', 'warn', 'error']
// pino's numeric levels, so a line of ours reads like a line of pino's.
const pinoLevels: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 }

/**
 * Resolves the `logger` option into a logger that never throws:
 * - `undefined`: warnings and errors to stderr, one JSON line each (pino's
 *   format and levels); info and debug to `NODE_DEBUG=graceful`;
 * - `false`: silent;
 * - pino-shaped (`info`, `warn`, `error`, optional `debug`): used as is;
 * - a NestJS logger (`log`, `warn`, `error`, no `info`): normalised;
 * - a winston logger (`logger.info(message, meta)`): normalised.
 * A logger method that throws is reported once as a process warning and ignored.
 */
export function resolveLogger (value: unknown): Logger {
  if (value === false) return { debug: noop, info: noop, warn: noop, error: noop }
  const raw = value === undefined ? stderrLogger() : normalise(value)
  const observers = createObservers()
  const safe = {} as Logger
  for (const level of levels) {
    safe[level] = function log (fields, message) {
      observers.call(`logger.${level}()`, () => raw[level](fields, message))
    }
  }
  return safe
}

function normalise (value: unknown): Logger {
  const candidate = value as Record<string, unknown> | null
  const has = (name: string) => typeof candidate?.[name] === 'function'
  if (typeof value !== 'object' || candidate === null) throw refuse(value)
  // winston has pino's method names but the other call shape: (message, meta).
  if (has('info') && has('warn') && has('error') && has('add') && 'transports' in candidate) return fromWinston(value as WinstonLike)
  if (has('info') && has('warn') && has('error')) {
    const pino = value as Logger
    return {
      debug: has('debug') ? (fields, message) => { pino.debug(fields, message) } : noop,
      info: (fields, message) => { pino.info(fields, message) },
      warn: (fields, message) => { pino.warn(fields, message) },
      error: (fields, message) => { pino.error(fields, message) },
    }
  }
  if (has('log') && has('warn') && has('error')) return fromNest(value as NestLikeLogger)
  throw refuse(value)
}

function refuse (value: unknown): TypeError {
  return invalidOption('logger', 'false, a pino-shaped logger ({ info, warn, error, debug? }: pino, app.log, console) or a NestJS Logger ({ log, warn, error })', value)
}

/** winston's `logger.info(message, meta)`; its `debug` exists only with levels that have it. */
interface WinstonLike {
  info: (message: string, meta: Record<string, unknown>) => unknown
  warn: (message: string, meta: Record<string, unknown>) => unknown
  error: (message: string, meta: Record<string, unknown>) => unknown
  debug?: (message: string, meta: Record<string, unknown>) => unknown
}

// Errors serialised first: winston's JSON format writes an Error as `{}`.
function fromWinston (winston: WinstonLike): Logger {
  const level = (method: Level) => (fields: Record<string, unknown>, msg: string) => { winston[method]?.(msg, serialisable(fields)) }
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') }
}

/**
 * A NestJS logger: `(message, context?)`, `error(message, stack?, context?)`.
 * One line each, the fields after the message, and no context of ours: a Nest
 * `Logger` made with its own context (`new Logger('Graceful')`, NestJS's
 * default) appends it, and a second one would print as a stray extra line.
 * The stack of `err` goes where Nest wants it. Used by @graceful/nestjs too.
 */
export function fromNest (nest: NestLikeLogger): Logger {
  const line = (fields: Record<string, unknown>, message: string) =>
    Object.keys(fields).length === 0 ? message : `${message} ${stringify(fields, (error) => error.message)}`
  return {
    debug: (fields, message) => { (nest.debug ?? nest.verbose ?? nest.log).call(nest, line(fields, message)) },
    info: (fields, message) => { nest.log(line(fields, message)) },
    warn: (fields, message) => { nest.warn(line(fields, message)) },
    error: (fields, message) => {
      const { err, ...rest } = fields
      if (err instanceof Error) nest.error(line(rest, message), err.stack)
      else nest.error(line(fields, message))
    },
  }
}

/** The default: never silent about a failure, never chatty about the rest. */
function stderrLogger (): Logger {
  const line = (level: Level) => function write (fields: Record<string, unknown>, msg: string) {
    process.stderr.write(stringify({ level: pinoLevels[level], time: Date.now(), pid: process.pid, name: 'graceful', ...fields, msg }) + '\n')
  }
  // Unless NODE_DEBUG=graceful is on, the fields are not even serialised:
  // every shutdown logs a few lines, on the path an idle exit is timed on.
  const internal = (fields: Record<string, unknown>, msg: string) => {
    if (debug.enabled) debug('%s %s', msg, stringify(fields))
  }
  return { debug: internal, info: internal, warn: line('warn'), error: line('error') }
}

function stringify (value: Record<string, unknown>, error: (error: Error) => unknown = serialiseError): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_key, field: unknown) => {
    if (typeof field === 'bigint') return field.toString()
    if (field instanceof Error) return error(field)
    if (typeof field === 'object' && field !== null) {
      if (seen.has(field)) return '[Circular]'
      seen.add(field)
    }
    return field
  })
}

/** pino's `err` serializer shape: type, message, stack, code, cause. */
function serialiseError (error: Error): Record<string, unknown> {
  const { code } = error as { code?: unknown }
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...(code === undefined ? {} : { code }),
    ...(error.cause === undefined ? {} : { cause: error.cause instanceof Error ? serialiseError(error.cause) : error.cause }),
  }
}

function serialisable (fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(fields)) out[key] = field instanceof Error ? serialiseError(field) : field
  return out
}
