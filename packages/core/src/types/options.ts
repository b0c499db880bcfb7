import type { CutRequest, Logger, QuietPeriod, ResolvedQuietPeriod } from './lifecycle.js'

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
   * (`{ log, warn, error, debug?, verbose? }`: one line each, the fields after the message).
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

/** The `reload` option: `true`, or these. */
export interface ReloadOptions {
  /** The signal that starts a reload; `false`: only `graceful.reload()`. @default 'SIGHUP' */
  signal?: NodeJS.Signals | false
  /** How long the new process gets to boot, listen and become ready, in ms. Then it is killed and this one keeps serving. @default 30_000 */
  timeout?: number
  /**
   * Once the new process is ready, this one keeps serving this long with
   * `Connection: close` (replacing `readinessDelay`, meant for load balancers),
   * so keep-alive clients close their connections after a response, and open
   * the next one on the shared socket, instead of meeting a FIN mid-reuse.
   * @default 500
   */
  readinessDelay?: number
  /**
   * Each process writes its PID here once ready, the new one before the old
   * one drains: point systemd's `PIDFile=` at it and the unit's main PID
   * follows the reload (deploy/README.md). Its folder must exist and be
   * writable (checked at creation); each write is atomic (a temporary file,
   * then a rename), and a later failure is logged, never thrown.
   */
  pidFile?: string
}

/** `reload` option, as the engine uses it. */
export interface ResolvedReload {
  /** The signal that starts a reload, or null for `graceful.reload()` only. */
  signal: NodeJS.Signals | null
  /** How long the new process gets to become ready. */
  timeout: number
  /** The old process's readiness delay once the new one is ready. */
  readinessDelay: number
  /** Where each process writes its PID once ready (systemd's `PIDFile=`). */
  pidFile: string | null
}

/**
 * The control surface: `POST /pause`, `POST /resume`, `GET /status`, on a
 * listener of its own (health-port.ts), never on the app's port. Off unless
 * a token is given; bound to 127.0.0.1 unless the user says otherwise.
 */
export interface ControlOptions {
  /**
   * The bearer token every request must carry (`Authorization: Bearer <token>`),
   * at least 16 characters: use a long random one (`openssl rand -hex 32`).
   * Without it there is no control surface.
   */
  token: string
  /** The control listener's port. Equal to `health.port` (with the same `host`): one listener carries both. */
  port: number
  /** The address to bind. Anything but loopback lets others on the network pause this instance: keep the token secret. @default '127.0.0.1' */
  host?: string
}

export interface ResolvedControl {
  /** SHA-256 of the token: the token itself is not kept, so `graceful.options` cannot leak it. */
  digest: Buffer
  port: number
  host: string
}

/**
 * Health on its own port (`health: { port, host }`): a listener outside the
 * drain, never attached, so probes get an answer (readiness 503, liveness 200)
 * until the process exits instead of a refused connection while a long drain
 * runs. The app's port then carries no health routes. The control surface
 * (control.ts) lives on a listener of this kind too, or on this one when its
 * port and host are the same.
 */
export interface ResolvedHealthListener {
  port: number
  /** `undefined`: every interface, as Node binds without a host (`::`, or `0.0.0.0` without IPv6), which kubelet reaches on the pod IP. */
  host: string | undefined
  liveness: string | false
  readiness: string | false
}

/** The maximum connection age, as the engine uses it. */
export interface ConnectionAge {
  /** Milliseconds after its acceptance a connection is closed, before jitter. */
  age: number
  /** ± this fraction of `age`, drawn per connection. */
  jitter: number
  /** Past its age, in-flight work gets this long before the connection is destroyed; null: no limit. */
  grace: number | null
}

/** `spread`: a window in ms, `false` (or 0) to close everything at once; unset, automatic. */
export type Spread = number | false | undefined

/**
 * A NestJS `LoggerService` (`new Logger()`, `ConsoleLogger`, or yours):
 * `log/error/warn/debug/verbose` with `(message, context?)` signatures.
 * Normalised: graceful passes one structured message object
 * (`{ msg, ...fields }`) and the context `'graceful'`; an error's stack goes
 * where Nest expects it (`error(message, stack, context)`).
 */
// Method syntax on purpose: Nest declares `log(message: any, context?: string)`,
// which only method parameter bivariance lets through.
export interface NestLikeLogger {
  log(message: unknown, ...optionalParams: unknown[]): unknown
  error(message: unknown, ...optionalParams: unknown[]): unknown
  warn(message: unknown, ...optionalParams: unknown[]): unknown
  debug?(message: unknown, ...optionalParams: unknown[]): unknown
  verbose?(message: unknown, ...optionalParams: unknown[]): unknown
}

/** What the `logger` option accepts: pino-shaped (pino, Fastify's `app.log`, `console`), a NestJS logger, or `false`. */
export type LoggerOption = Logger | NestLikeLogger | false
