import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ListenOptions } from 'node:net'
import type { AttachableServer, Graceful, GracefulOptions, State } from '@graceful/core'

/** Express's `next`, as both majors call it. */
export type NextFunction = (err?: unknown) => void

/**
 * A `(req, res, next)` middleware. Typed on `node:http` rather than on
 * `@types/express`, so it fits Express 4 and Express 5 typings (Express's
 * `Request`/`Response` extend these) and needs neither installed.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void

/** Options of {@link graceful}: every core option, plus the adapter's own. */
export interface GracefulExpressOptions extends GracefulOptions {
  /**
   * The middleware answers `GET`/`HEAD` on the `health` paths itself, before
   * any middleware mounted after it: zero configuration. Set `false` to mount
   * `g.health` (or `g.liveness` / `g.readiness`) yourself behind your own
   * logging, auth or CORS middleware. Keep `health.liveness`/`health.readiness`
   * naming those paths: while draining, the gate lets them through (with
   * `Connection: close`) instead of answering them with the draining 503.
   * @default true
   */
  answerHealth?: boolean
}

/** Anything with Express's (or Koa's, or node:http's) `listen()`. */
export interface Listenable<S extends AttachableServer = AttachableServer> {
  listen: (...args: never[]) => S
}

/** Called once listening; Express 5 passes the error when listening fails. */
type ListeningListener = (error?: Error) => void

/** The arguments of `server.listen()`, every overload. */
export type ListenArgs =
  | [port?: number, hostname?: string, backlog?: number, listeningListener?: ListeningListener]
  | [port?: number, hostname?: string, listeningListener?: ListeningListener]
  | [port?: number, backlog?: number, listeningListener?: ListeningListener]
  | [port?: number, listeningListener?: ListeningListener]
  | [path: string, backlog?: number, listeningListener?: ListeningListener]
  | [path: string, listeningListener?: ListeningListener]
  | [options: ListenOptions, listeningListener?: ListeningListener]
  | [listeningListener?: ListeningListener]

/**
 * What {@link graceful} returns: the middleware itself (`app.use(g)`), with
 * the core handle in `g.graceful` and the methods an Express app needs.
 */
export interface GracefulMiddleware {
  /** The gate: draining 503s, `Connection: close` while draining, and (by default) the health endpoints. */
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void
  /** The core handle: events (`g.graceful.on('draining', …)`), `stats()`, `ready`, `options`. */
  readonly graceful: Graceful
  /**
   * Track a server's connections and requests (the one `app.listen()`
   * returns). Without it a shutdown cannot drain, and readiness stays
   * not-ready. Call once per server. Returns `detach`.
   */
  attach: (server: AttachableServer) => () => void
  /**
   * `app.listen(...args)`, then {@link GracefulMiddleware.attach} the server it returns.
   * @example const server = g.listen(app, 3000, () => console.log('listening'))
   */
  listen: <S extends AttachableServer>(app: Listenable<S>, ...args: ListenArgs) => S
  /** Starts the shutdown (idempotent: every caller gets the same summary). Never exits the process. */
  shutdown: Graceful['shutdown']
  /** Release hook, run after the drain, last registered first, under its own timeout. */
  onClose: Graceful['onClose']
  /** Notify hook, run when the drain starts: close WebSockets (1001), end SSE streams, stop consumers. */
  onDraining: Graceful['onDraining']
  /** Work the drain waits for (Go's WaitGroup). A function receives a signal that aborts at the drain deadline. */
  track: Graceful['track']
  /** With `readyWhen: 'manual'`: report ready from now on. */
  markReady: Graceful['markReady']
  /** `accepting`, `draining` or `closed`. */
  readonly state: State
  /** Aborts when the drain starts: pass it to long-running work. */
  readonly signal: AbortSignal
  /**
   * Middleware answering `GET`/`HEAD` on both configured health paths
   * (matched on `req.originalUrl`, query ignored) and calling `next()`
   * otherwise. For `answerHealth: false`.
   * @example app.use(g); app.use(morgan('tiny'), requireToken, g.health)
   */
  readonly health: Middleware
  /** Handler answering liveness wherever you mount it. @example app.get('/livez', g.liveness) */
  readonly liveness: Middleware
  /** Handler answering readiness (with `health.checks`) wherever you mount it. @example app.get('/readyz', g.readiness) */
  readonly readiness: Middleware
}
