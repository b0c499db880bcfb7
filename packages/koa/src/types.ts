import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdapterHandle, MiddlewareAdapterOptions } from '@graceful/core/adapter'

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

/** Options of {@link graceful}: every core option, plus `answerHealth`. */
export type GracefulKoaOptions = MiddlewareAdapterOptions

/**
 * What {@link graceful} returns: the Koa middleware itself (`app.use(g)`,
 * first), with the core handle in `g.graceful` and the methods an app needs.
 */
export interface GracefulMiddleware extends AdapterHandle {
  /** The gate: draining 503s, `Connection: close` while draining, and (by default) the health endpoints. */
  (ctx: KoaContextLike, next: KoaNext): Promise<void>
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
