import { constants } from 'node:os'
import { optionLabel, variableThatSet, withEnvironment } from './environment.js'
import { invalidOption } from './errors.js'
import { resolveReload, type ReloadOptions, type ResolvedReload } from './reload.js'
import { resolveLogger, type LoggerOption } from './logger.js'
import { resolveControl, type ControlOptions, type ResolvedControl } from './control.js'
import { checkSharedPort, resolveHealthListener, type ResolvedHealthListener } from './health-port.js'
import { resolveConnectionAge, type ConnectionAge } from './connection-age.js'
import { validateSpread, type Spread } from './spread.js'
import { resolveQuietPeriod, type QuietPeriod, type ResolvedQuietPeriod } from './quiet-period.js'
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
  /**
   * Serve liveness and readiness on a listener of their own at this port,
   * outside the drain: it answers (readiness 503, liveness 200) until the
   * process exits, and the app's port carries no health routes then.
   * @example createGraceful({ health: { port: 9000 } })   // kubelet probes :9000/livez and :9000/readyz
   */
  port?: number
  /**
   * The address of the `port` listener. Unset, every interface (Node's
   * default: `::`, or `0.0.0.0` without IPv6), which kubelet reaches on the pod IP.
   * @default all interfaces
   */
  host?: string
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
   *
   * A {@link QuietPeriod} makes it adaptive: serve until no new connection and
   * no new request has arrived for `quiet` ms, at least `min`, at most `max`
   * (`GRACEFUL_READINESS_DELAY=quiet=1000,min=500,max=10000`).
   * @default 0
   * @example createGraceful({ readinessDelay: { quiet: 1000, min: 500, max: 10_000 } })
   */
  readinessDelay?: number | QuietPeriod
  /**
   * The share of `timeout` kept for release hooks even when the drain is cut.
   * @default Math.min(1000, timeout / 4)
   */
  releaseTimeout?: number
  /** `Retry-After` seconds on draining 503s. @default 1 */
  retryAfter?: number
  /**
   * After a draining 503 sent to a client still uploading its request body,
   * read and discard at most this many more bytes of it before closing, so a
   * client that writes its whole body before reading (Python's requests,
   * Java's HTTP clients) reads the 503 instead of a reset. The discard also
   * ends at the drain deadline. `0`: close at once (the client may see a reset).
   * @default 67_108_864 (64 MiB)
   */
  rejectedBodyLimit?: number
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
  /**
   * The control surface, off by default: `POST /pause`, `POST /resume` and
   * `GET /status` on a listener of its own (127.0.0.1 unless `host` says
   * otherwise, never the app's port), each with `Authorization: Bearer <token>`.
   * @example
   * const token = process.env.GRACEFUL_CONTROL_TOKEN
   * createGraceful({ control: token ? { token, port: 9001 } : false })
   */
  control?: ControlOptions | false
  /**
   * Close each connection this long after it was accepted, so pooled
   * keep-alive clients rebalance after a deploy (gRPC's and Envoy's maximum
   * connection age). HTTP/1: the response it is serving, or the next one,
   * carries `Connection: close`; an idle one is closed with a FIN. HTTP/2: the
   * two-phase GOAWAY. One timer per connection, nothing per request.
   * For gRPC servers, see `@graceful/grpc`'s `connectionAgeOptions()`.
   * @default false
   * @example createGraceful({ maxConnectionAge: 5 * 60_000 })
   */
  maxConnectionAge?: number | false
  /** Each connection's age is `maxConnectionAge` ± this fraction, drawn at random. @default 0.1 */
  maxConnectionAgeJitter?: number
  /**
   * Past its age, a connection still busy (a long response, HTTP/2 streams) is
   * destroyed after this many ms, cutting what it carries.
   * @default no limit: what is in flight always finishes
   */
  maxConnectionAgeGrace?: number
  /**
   * A spread goodbye: the window, in ms, over which `graceful.stream()` ends
   * its streams and `graceful.websockets()` closes its clients (unless given
   * its own `spread`), evenly, so their clients do not all reconnect elsewhere
   * in the same second. `false`: all at once. Never more than half of what is
   * left until the drain deadline.
   * @default 0.5 ms per connection from 100 connections on (2,000 → 1 s), at most 5 s; fewer end at once
   */
  spread?: number | false
}

/** Options after defaults, as the engine uses them. */
export interface ResolvedOptions {
  timeout: number
  /** The fixed delay, or the quiet period's `max`: the longest the delay can take. */
  readinessDelay: number
  /** Set when `readinessDelay` is a quiet period. */
  quietPeriod: ResolvedQuietPeriod | null
  releaseTimeout: number
  retryAfter: number
  rejectedBodyLimit: number
  signals: readonly NodeJS.Signals[]
  exit: boolean
  handleFatalErrors: boolean
  /** Always set, and never throws: the default, a normalised user logger, or a silent one. */
  logger: Logger
  health: Required<Omit<HealthOptions, 'checks' | 'port' | 'host'>> & { checks: Record<string, () => unknown> }
  readyWhen: 'listening' | 'manual'
  onCut: ((cut: CutRequest[]) => void) | undefined
  pm2: boolean
  reload: ResolvedReload | null
  /** `health.port`: health on a listener of its own (then `health.liveness`/`readiness`, the app's routes, are off). */
  healthListener: ResolvedHealthListener | null
  control: ResolvedControl | null
  /** `maxConnectionAge` and its jitter and grace; null when off. */
  connectionAge: ConnectionAge | null
  /** The spread goodbye's window: ms, false, or undefined (automatic). */
  spread: Spread
}

const optionKeys = new Set<string>([
  'timeout', 'readinessDelay', 'releaseTimeout', 'retryAfter', 'rejectedBodyLimit', 'signals', 'exit',
  'handleFatalErrors', 'logger', 'health', 'readyWhen', 'onCut', 'pm2', 'reload', 'control',
  'maxConnectionAge', 'maxConnectionAgeJitter', 'maxConnectionAgeGrace', 'spread',
])
const healthKeys = new Set<string>(['liveness', 'readiness', 'checks', 'checkTimeout', 'detail', 'port', 'host'])

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
  const releaseTimeout = duration('releaseTimeout', input.releaseTimeout, Math.min(1000, Math.floor(timeout / 4)))
  const quietPeriod = typeof input.readinessDelay === 'object' && input.readinessDelay !== null && !Array.isArray(input.readinessDelay)
    ? resolveQuietPeriod(input.readinessDelay, timeout - releaseTimeout, duration)
    : null
  const readinessDelay = quietPeriod ? quietPeriod.max : duration('readinessDelay', input.readinessDelay, 0)
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
  const { routes, listener } = health(input.health)
  const control = resolveControl(input.control)
  checkSharedPort(listener, control)
  return {
    timeout,
    readinessDelay,
    quietPeriod,
    releaseTimeout,
    retryAfter: Math.ceil(retryAfter),
    rejectedBodyLimit: byteCount('rejectedBodyLimit', input.rejectedBodyLimit, 64 * 1024 * 1024),
    signals: shutdownSignals,
    exit: bool('exit', input.exit, true),
    handleFatalErrors: bool('handleFatalErrors', input.handleFatalErrors, false),
    logger: resolveLogger(input.logger),
    health: routes,
    readyWhen: oneOf('readyWhen', input.readyWhen, ['listening', 'manual'] as const, 'listening'),
    onCut: fn('onCut', input.onCut),
    pm2: bool('pm2', input.pm2, process.env.PM2_HOME !== undefined || process.env.pm_id !== undefined),
    reload: resolveReload(input.reload, shutdownSignals, timeout - releaseTimeout),
    healthListener: listener,
    control,
    connectionAge: resolveConnectionAge(input, duration),
    spread: validateSpread('spread', input.spread),
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

function byteCount (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidOption(name, 'a whole, non-negative number of bytes', value)
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

/** The app's health routes, and the listener of their own when `health.port` is set (the routes are then off). */
function health (value: unknown): { routes: ResolvedOptions['health'], listener: ResolvedHealthListener | null } {
  const off = { liveness: false, readiness: false, checks: {}, checkTimeout: 1000, detail: false } as const
  if (value === false) return { routes: { ...off }, listener: null }
  if (value === undefined) return { routes: { ...off, liveness: '/livez', readiness: '/readyz' }, listener: null }
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
  const listener = resolveHealthListener(input, liveness, readiness)
  const routes = {
    liveness: listener ? false : liveness,
    readiness: listener ? false : readiness,
    checks,
    checkTimeout: duration('health.checkTimeout', input.checkTimeout, 1000),
    detail: bool('health.detail', input.detail, false),
  }
  return { routes, listener }
}

function path (name: string, value: unknown, fallback: string): string | false {
  if (value === undefined) return fallback
  if (value === false) return false
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw invalidOption(name, 'an absolute path (starting with "/", without "?", "#" or spaces) or false', value)
  }
  return value
}
