import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ListenOptions } from 'node:net'
import type { AttachableServer, Graceful, GracefulOptions, State } from '@graceful/core'

/**
 * The part of Koa's `ctx` this package uses. Structural, so the middleware
 * fits Koa 2 and Koa 3 typings alike (any `ParameterizedContext`) and needs
 * neither `@types/koa` version installed.
 */
export interface KoaContextLike {
  req: IncomingMessage
  res: ServerResponse
  method: string
  /** The pathname of `ctx.url`, without the query string. */
  path: string
  /** The URL as the client sent it, even inside `koa-mount`. */
  originalUrl: string
  status: number
  body: unknown
  set: (field: Record<string, string>) => void
}

/** Koa's `next`. */
export type KoaNext = () => Promise<unknown>

/** A Koa middleware: `(ctx, next) => Promise`. Assignable to `Koa.Middleware` of Koa 2 and 3. */
export type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>

/** Options of {@link graceful}: every core option, plus the adapter's own. */
export interface GracefulKoaOptions extends GracefulOptions {
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

/** Anything with Koa's (or node:http's) `listen()`. */
export interface Listenable<S extends AttachableServer = AttachableServer> {
  listen: (...args: never[]) => S
}

/** Called once listening. */
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
 * What {@link graceful} returns: the Koa middleware itself (`app.use(g)`,
 * first), with the core handle in `g.graceful` and the methods an app needs.
 */
export interface GracefulMiddleware {
  /** The gate: draining 503s, `Connection: close` while draining, and (by default) the health endpoints. */
  (ctx: KoaContextLike, next: KoaNext): Promise<void>
  /** The core handle: events (`g.graceful.on('draining', …)`), `stats()`, `ready`, `options`, `force()`. */
  readonly graceful: Graceful
  /**
   * Track a server's connections and requests (the one `app.listen()`
   * returns). Without it a shutdown cannot drain, and readiness stays
   * not-ready. Call once per server. Returns `detach`.
   * @example
   * const server = app.listen(3000)
   * g.attach(server)
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
   * (matched on `ctx.originalUrl`, query ignored) and calling `next()`
   * otherwise. For `answerHealth: false`.
   * @example app.use(g); app.use(logger()); app.use(requireToken); app.use(g.health)
   */
  readonly health: KoaMiddleware
  /** Answers liveness (`GET`/`HEAD`) wherever you mount it. @example router.get('/livez', g.liveness) */
  readonly liveness: KoaMiddleware
  /** Answers readiness (`GET`/`HEAD`, with `health.checks`) wherever you mount it. @example router.get('/readyz', auth, g.readiness) */
  readonly readiness: KoaMiddleware
}
