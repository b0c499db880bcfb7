import { createMiddlewareAdapter } from '@graceful/core/adapter'
import { createHealth } from './health.js'
import { keepConnectionClose, send } from './respond.js'
import type { GracefulKoaOptions, GracefulMiddleware, KoaContextLike, KoaNext } from './types.js'

/**
 * Graceful shutdown for Koa 2 and 3. Returns the middleware (mount it
 * anywhere: the drain's gate lives in the server it is attached to); it carries the core handle (`g.graceful`) and the methods an app needs.
 * Options are validated now: a bad one throws a `TypeError` with code
 * `ERR_GRACEFUL_INVALID_OPTION` naming it.
 *
 * Attach the server (`g.attach(server)`, or start it with `g.listen(app, …)`):
 * without it a shutdown cannot drain, readiness stays not-ready, and the first
 * request emits an `ERR_GRACEFUL_NOT_ATTACHED` process warning.
 *
 * @example
 * const app = new Koa()
 * const g = graceful({ timeout: 10_000, readinessDelay: 5_000 })
 * app.use(g)
 * app.use(async (ctx) => { ctx.body = 'hello' })
 * g.listen(app, 3000)
 * g.onClose(() => db.end(), { name: 'db' })
 */
export function graceful (options: GracefulKoaOptions = {}): GracefulMiddleware {
  const { view, answerHealth, checkAttached, decorate } = createMiddlewareAdapter(options, { supertest: 'request(app.callback())' })
  const health = createHealth(view)
  const core = view.graceful

  // Not async: while accepting, a request costs a comparison and a path
  // check, and the middleware hands back next()'s own promise (no extra
  // async frame). While draining, the core already answered new requests at
  // the server; what reaches this point is served, or gated here when no
  // attached server saw it (supertest).
  function gracefulMiddleware (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    checkAttached()
    if (core.state !== 'accepting') return whileDraining(ctx, next)
    // ctx.originalUrl: koa-mount rewrites req.url; the gate below matches the same URL (query ignored).
    const endpoint = answerHealth ? view.matchHealth(ctx.originalUrl) : null
    if (endpoint !== null) return healthOrNext(endpoint, ctx, next)
    return next() as Promise<void>
  }

  async function healthOrNext (endpoint: 'liveness' | 'readiness', ctx: KoaContextLike, next: KoaNext): Promise<void> {
    if (!await health.answer(endpoint, ctx)) await next()
  }

  async function whileDraining (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    // Answered through ctx, never thrown: Koa's onerror and 'error' event must not see a drain.
    if (view.gate(ctx.req, ctx.res, ctx.originalUrl) === 'reject') {
      send(ctx, view.rejectionFor(ctx.req))
      return
    }
    if (answerHealth) {
      const endpoint = view.matchHealth(ctx.originalUrl)
      if (endpoint !== null && await health.answer(endpoint, ctx)) return
    }
    try {
      await next()
    } catch (error) {
      keepConnectionClose(ctx, error)
      throw error
    }
  }

  return decorate(gracefulMiddleware, { health: health.health, liveness: health.liveness, readiness: health.readiness })
}
