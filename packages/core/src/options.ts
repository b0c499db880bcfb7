import { constants } from 'node:os'
import { optionLabel, variableThatSet, withEnvironment } from './environment.js'
import { invalidOption } from './errors.js'
import { resolveReload, type ReloadOptions, type ResolvedReload } from './reload.js'
import { resolveLogger, type LoggerOption } from './logger.js'
import type { CutRequest, Logger } from './types.js'

/** Health endpoints. Registered as real routes by the adapters. */
export interface HealthOptions {
  /** Liveness path: 200 until the process is gone. `false` turns it off. @default '/livez' */
  liveness?: string | false
  /** Readiness path: 200 while accepting, 503 from the first moment of draining. `false` turns it off. @default '/readyz' */
  readiness?: string | false
  /** Extra readiness checks, e.g. `{ db: () => pool.query('select 1') }`. A check that throws or times out makes readiness 503. */
  checks?: Record<string, () => unknown>
  /** Limit for each readiness check. @default 1000 */
  checkTimeout?: number
  /** Include each check's result and error message in the body. Off, so nothing internal leaks. @default false */
  detail?: boolean
}

/** Options of {@link createGraceful} and of every adapter. */
export interface GracefulOptions {
  /**
   * The whole budget in ms, from the trigger to process exit: readiness delay,
   * drain and release hooks share it. Set Kubernetes'
   * `terminationGracePeriodSeconds` above it. Unset, the `GRACEFUL_TIMEOUT`
   * environment variable sets it.
   * @default 10_000
   */
  timeout?: number
  /**
   * Keep serving (with `Connection: close`) this long after the trigger, while
   * readiness already reports not-ready, so load balancers and kube-proxy take
   * the instance out of rotation first. Kubernetes users want a few seconds.
   * Unset, the `GRACEFUL_READINESS_DELAY` environment variable sets it.
   * Skipped in an interactive terminal where nothing probed readiness (see the README).
   * @default 0
   */
  readinessDelay?: number
  /**
   * The share of `timeout` kept for release hooks even when the drain is cut.
   * @default Math.min(1000, timeout / 4)
   */
  releaseTimeout?: number
  /** `Retry-After` seconds on draining 503s. @default 1 */
  retryAfter?: number
  /** Signals that start the shutdown; a second one forces. `false`: none. @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[] | false
  /** Exit the process after a signal-initiated shutdown. Programmatic shutdowns never exit. @default true */
  exit?: boolean
  /** Drain and exit 1 on `uncaughtException` and `unhandledRejection`. @default false */
  handleFatalErrors?: boolean
  /**
   * Where graceful logs. Without one, warnings and errors go to stderr, one
   * JSON line each with pino's levels (never silent about a failure); info and
   * debug go to `NODE_DEBUG=graceful`. `false` silences everything. Accepts a
   * pino-shaped `{ info, warn, error, debug? }` called as `(fields, message)`
   * (pino, Fastify's `app.log`, `console`) or a NestJS `Logger`
   * (`{ log, warn, error, debug?, verbose? }`, called as `(message, context)`).
   * A logger method that throws is reported once as a process warning and ignored.
   * @default stderr for warn and error
   * @example createGraceful({ logger: pino() })
   */
  logger?: LoggerOption
  /** Liveness and readiness endpoints, or `false` for none. */
  health?: HealthOptions | false
  /**
   * When readiness may first report ready: once every attached server is
   * listening, or only after `markReady()` (slow warm-ups).
   * @default 'listening'
   */
  readyWhen?: 'listening' | 'manual'
  /** Called at the drain deadline with the requests it cut, to log or re-queue them. */
  onCut?: (cut: CutRequest[]) => void
  /**
   * PM2 support: send `'ready'` over IPC once ready (for `wait_ready`) and treat the
   * `'shutdown'` message (`shutdown_with_message`) like SIGINT.
   * @default true when running under PM2 (`PM2_HOME` or `pm_id` in the environment)
   */
  pm2?: boolean
  /**
   * Zero-downtime in-place restart: on `SIGHUP` (or `graceful.reload()`) start
   * a new copy of this process that inherits every attached server's listening
   * socket; once it is ready, this one drains as on SIGTERM, without the
   * readiness delay. A new process that fails or is not ready in `timeout`
   * is killed, and this one keeps serving. Not for containers (PID 1) or
   * cluster workers: see the README.
   * @default false
   * @example createGraceful({ reload: true })   // SIGHUP, 30 s to become ready
   */
  reload?: boolean | ReloadOptions
}

/** Options after defaults, as the engine uses them. */
export interface ResolvedOptions {
  timeout: number
  readinessDelay: number
  releaseTimeout: number
  retryAfter: number
  signals: readonly NodeJS.Signals[]
  exit: boolean
  handleFatalErrors: boolean
  /** Always set, and never throws: the default, a normalised user logger, or a silent one. */
  logger: Logger
  health: Required<Omit<HealthOptions, 'checks'>> & { checks: Record<string, () => unknown> }
  readyWhen: 'listening' | 'manual'
  onCut: ((cut: CutRequest[]) => void) | undefined
  pm2: boolean
  reload: ResolvedReload | null
}

const optionKeys = new Set<string>([
  'timeout', 'readinessDelay', 'releaseTimeout', 'retryAfter', 'signals', 'exit',
  'handleFatalErrors', 'logger', 'health', 'readyWhen', 'onCut', 'pm2', 'reload',
])
const healthKeys = new Set<string>(['liveness', 'readiness', 'checks', 'checkTimeout', 'detail'])

// SIGKILL and SIGSTOP cannot be caught; the fatal ones (SIGSEGV, SIGBUS, ...) must not be.
const uncatchable = new Set(['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS'])

/**
 * Applies defaults and validates. Throws a `TypeError` with code
 * `ERR_GRACEFUL_INVALID_OPTION` that names the option; never mutates `input`.
 * Adapters pass the keys they own in `extraKeys`.
 */
export function resolveOptions (input: GracefulOptions = {}, extraKeys: readonly string[] = []): ResolvedOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidOption('options', 'an object', input)
  }
  // GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY, under the options given in code.
  const inCode = input
  input = withEnvironment(input)
  for (const key of Object.keys(input)) {
    if (!optionKeys.has(key) && !extraKeys.includes(key)) {
      throw invalidOption(key, `one of the known options (${[...optionKeys, ...extraKeys].join(', ')})`, key)
    }
  }

  const timeout = duration('timeout', input.timeout, 10_000)
  if (timeout === 0) throw invalidOption('timeout', 'a duration above 0 ms', 0)
  const readinessDelay = duration('readinessDelay', input.readinessDelay, 0)
  const releaseTimeout = duration('releaseTimeout', input.releaseTimeout, Math.min(1000, Math.floor(timeout / 4)))
  if (readinessDelay + releaseTimeout >= timeout) {
    // Named as the user set them: a variable in the deploy file, or the options in code.
    const timeoutVariable = variableThatSet('timeout', inCode)
    const limit = `timeout (${timeout} ms${timeoutVariable === undefined ? '' : `, from ${timeoutVariable}`})`
    if (input.releaseTimeout === undefined) {
      throw invalidOption(optionLabel('readinessDelay', inCode), `less than ${limit} minus releaseTimeout (${releaseTimeout} ms by default), leaving time to drain`, readinessDelay)
    }
    throw invalidOption('readinessDelay + releaseTimeout', `less than ${limit}, leaving time to drain`, readinessDelay + releaseTimeout)
  }
  const retryAfter = duration('retryAfter', input.retryAfter, 1)

  const shutdownSignals = signals(input.signals)
  return {
    timeout,
    readinessDelay,
    releaseTimeout,
    retryAfter: Math.ceil(retryAfter),
    signals: shutdownSignals,
    exit: bool('exit', input.exit, true),
    handleFatalErrors: bool('handleFatalErrors', input.handleFatalErrors, false),
    logger: resolveLogger(input.logger),
    health: health(input.health),
    readyWhen: oneOf('readyWhen', input.readyWhen, ['listening', 'manual'] as const, 'listening'),
    onCut: fn('onCut', input.onCut),
    pm2: bool('pm2', input.pm2, process.env.PM2_HOME !== undefined || process.env.pm_id !== undefined),
    reload: resolveReload(input.reload, shutdownSignals, timeout - releaseTimeout),
  }
}

/** The longest delay a Node.js timer holds: above it, `setTimeout` fires after 1 ms. */
export const maxTimerMs = 2 ** 31 - 1

export function duration (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > maxTimerMs) {
    throw invalidOption(name, `a finite, non-negative number of milliseconds, at most ${maxTimerMs} (what a timer holds)`, value)
  }
  return value
}

function bool (name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}

function fn<T> (name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(name, 'a function', value)
  return value
}

function oneOf<const T extends readonly string[]> (name: string, value: unknown, allowed: T, fallback: T[number]): T[number] {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value)
  }
  return value
}

function signals (value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined) return ['SIGTERM', 'SIGINT']
  if (value === false) return []
  if (!Array.isArray(value)) throw invalidOption('signals', 'an array of signal names or false', value)
  for (const signal of value) {
    if (typeof signal !== 'string' || !(signal in constants.signals) || uncatchable.has(signal)) {
      throw invalidOption('signals', 'catchable signal names such as "SIGTERM"', signal)
    }
  }
  return [...new Set(value as NodeJS.Signals[])]
}

function health (value: unknown): ResolvedOptions['health'] {
  const off = { liveness: false, readiness: false, checks: {}, checkTimeout: 1000, detail: false } as const
  if (value === false) return { ...off }
  if (value === undefined) return { ...off, liveness: '/livez', readiness: '/readyz' }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption('health', 'an object or false', value)
  }
  for (const key of Object.keys(value)) {
    if (!healthKeys.has(key)) throw invalidOption(`health.${key}`, `one of ${[...healthKeys].join(', ')}`, key)
  }
  const input = value as HealthOptions
  const checks = input.checks ?? {}
  if (typeof checks !== 'object' || checks === null || Object.values(checks).some((c) => typeof c !== 'function')) {
    throw invalidOption('health.checks', 'an object of functions', checks)
  }
  const liveness = path('health.liveness', input.liveness, '/livez')
  const readiness = path('health.readiness', input.readiness, '/readyz')
  // Liveness is matched first: on one path, readiness would never turn 503.
  if (liveness !== false && liveness === readiness) {
    throw invalidOption('health.readiness', `a path other than health.liveness ("${liveness}"): a load balancer must see readiness turn 503`, readiness)
  }
  return {
    liveness,
    readiness,
    checks,
    checkTimeout: duration('health.checkTimeout', input.checkTimeout, 1000),
    detail: bool('health.detail', input.detail, false),
  }
}

function path (name: string, value: unknown, fallback: string): string | false {
  if (value === undefined) return fallback
  if (value === false) return false
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw invalidOption(name, 'an absolute path (starting with "/", without "?", "#" or spaces) or false', value)
  }
  return value
}
