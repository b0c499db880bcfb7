import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdapterHandle, MiddlewareAdapterOptions } from '@graceful/core/adapter'

/** Express's `next`, as both majors call it. */
export type NextFunction = (err?: unknown) => void

/**
 * A `(req, res, next)` middleware. Typed on `node:http` rather than on
 * `@types/express`, so it fits Express 4 and Express 5 typings (Express's
 * `Request`/`Response` extend these) and needs neither installed.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void

/** Options of {@link graceful}: every core option, plus `answerHealth`. */
export type GracefulExpressOptions = MiddlewareAdapterOptions

/**
 * What {@link graceful} returns: the middleware itself (`app.use(g)`), with
 * the core handle in `g.graceful` and the methods an Express app needs.
 */
export interface GracefulMiddleware extends AdapterHandle {
  /** The gate: draining 503s, `Connection: close` while draining, and (by default) the health endpoints. */
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void
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
