/** Stable codes carried by every error this package creates. */
export const ErrorCodes = {
  /** An option had the wrong type, range or name. Thrown by the factory. */
  INVALID_OPTION: 'ERR_GRACEFUL_INVALID_OPTION',
  /** The reason of `graceful.signal`: draining has started. */
  DRAINING: 'ERR_GRACEFUL_DRAINING',
  /** The reason of a task's signal: the drain deadline was reached. */
  DEADLINE: 'ERR_GRACEFUL_DEADLINE',
  /** A release hook did not settle within its timeout. */
  HOOK_TIMEOUT: 'ERR_GRACEFUL_HOOK_TIMEOUT',
  /** The adapter was used before a server was attached. */
  NOT_ATTACHED: 'ERR_GRACEFUL_NOT_ATTACHED',
  /** A framework plugin was registered twice on one app (or one encapsulation context). */
  ALREADY_REGISTERED: 'ERR_GRACEFUL_ALREADY_REGISTERED',
  /** After a reload, a `listen()` named an address that was not handed over. */
  RELOAD_ADDRESS: 'ERR_GRACEFUL_RELOAD_ADDRESS',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

// A registered symbol, so two copies of this package recognise each other's errors.
const brand = Symbol.for('graceful.error')

/**
 * The one error class of the suite. Recognise it with {@link isGracefulError}
 * rather than `instanceof`: two copies of the package can be loaded at once.
 *
 * @example
 * if (isGracefulError(err) && err.code === ErrorCodes.DEADLINE) requeue(job)
 */
export class GracefulError extends Error {
  readonly code: ErrorCode
  readonly [brand] = true

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'GracefulError'
    this.code = code
  }
}

/** True for a {@link GracefulError} from any copy of this package. */
export function isGracefulError (value: unknown): value is GracefulError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}

/**
 * Option errors are `TypeError`s with a stable `code`, like Node's own
 * `ERR_INVALID_ARG_TYPE`: they name the option and what was expected.
 */
export function invalidOption (option: string, expected: string, received: unknown): TypeError {
  const error = new TypeError(
    `graceful: option "${option}" must be ${expected}, received ${describe(received)}`,
  ) as TypeError & { code: ErrorCode, option: string }
  error.code = ErrorCodes.INVALID_OPTION
  error.option = option
  return error
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'function') return 'a function'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
