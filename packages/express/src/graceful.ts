import type { IncomingMessage, ServerResponse } from 'node:http'
import { createMiddlewareAdapter, requestUrl } from '@graceful/core/adapter'
import { createHealth } from './health.js'
import { appOf, routeHealth } from './route-health.js'
import type { GracefulExpressOptions, GracefulMiddleware, NextFunction } from './types.js'

/**
 * Graceful shutdown for Express 4 and 5. Returns the middleware (mount it
 * anywhere, e.g. after your `app.set(...)` calls: the drain's gate lives in
 * the server it is attached to); it carries the core handle (`g.graceful`) and the methods an app
 * needs. Options are validated now: a bad one throws a `TypeError` with code
 * `ERR_GRACEFUL_INVALID_OPTION` naming it.
 *
 * Attach the server (`g.attach(server)`, or start it with `g.listen(app, …)`):
 * without it a shutdown cannot drain, readiness stays not-ready, and the first
 * request emits an `ERR_GRACEFUL_NOT_ATTACHED` process warning.
 *
 * @example
 * const app = express()
 * const g = graceful({ timeout: 10_000, readinessDelay: 5_000 })
 * app.use(g)
 * app.get('/', (req, res) => res.send('hello'))
 * g.listen(app, 3000)
 * g.onClose(() => db.end(), { name: 'db' })
 */
export function graceful (options: GracefulExpressOptions = {}): GracefulMiddleware {
  const { view, answerHealth, checkAttached, decorate } = createMiddlewareAdapter(options, {
    supertest: 'request(app)',
    // Served through an attached server, g's layer becomes a route for the health paths (route-health.ts).
    attached: (server, app) => {
      if (!answerHealth) return
      const { liveness, readiness } = view.graceful.options.health
      const paths = [liveness, readiness].filter((path): path is string => path !== false)
      routeHealth(app ?? appOf(server.listeners('request')), gracefulMiddleware, health.health, paths)
    },
  })
  const health = createHealth(view)

  function gracefulMiddleware (req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    checkAttached()
    // Answered here, never through next(err): the error handler must not log a drain.
    if (view.gate(req, res) === 'reject') return view.reject(req, res)
    if (answerHealth && health.answer(view.matchHealth(requestUrl(req)), req, res, next)) return
    next()
  }

  return decorate(gracefulMiddleware, { health: health.health, liveness: health.liveness, readiness: health.readiness })
}
