import { createGraceful, ErrorCodes, type AttachableServer, type Graceful } from '@graceful/core'
import { createHealth } from './health.js'
import { keepConnectionClose, send, withoutConnection } from './respond.js'
import type { GracefulKoaOptions, GracefulMiddleware, KoaContextLike, KoaNext, Listenable } from './types.js'

const adapterKeys = ['answerHealth'] as const

/**
 * Graceful shutdown for Koa 2 and 3. Returns the middleware to mount first;
 * it carries the core handle (`g.graceful`) and the methods an app needs.
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
  // Validate our own key before the core registers signal listeners: nothing starts half-configured.
  const answerHealth = booleanOption('answerHealth', (options as Partial<GracefulKoaOptions> | null)?.answerHealth, true)
  const core = createGraceful(options, { extraKeys: adapterKeys })
  const health = createHealth(core)
  const { rejection } = core
  const h2RejectionHeaders = withoutConnection(rejection.headers)
  let warned = false

  async function gracefulMiddleware (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    if (!warned && core.attached === 0) warned = warnNotAttached(core)
    // Answered through ctx, never thrown: Koa's onerror and 'error' event must not see a drain.
    if (core.gate(ctx.req, ctx.res) === 'reject') {
      send(ctx, rejection, ctx.req.httpVersionMajor === 2 ? h2RejectionHeaders : rejection.headers)
      return
    }
    if (answerHealth) {
      // req.url, as the core's gate matches it (query ignored): it lets these through while draining.
      const endpoint = core.matchHealth(ctx.req.url)
      if (endpoint !== null && await health.answer(endpoint, ctx)) return
    }
    try {
      await next()
    } catch (error) {
      if (core.state !== 'accepting') keepConnectionClose(ctx, error)
      throw error
    }
  }

  return Object.defineProperties(gracefulMiddleware, {
    graceful: { value: core, enumerable: true },
    attach: { value: core.attach, enumerable: true },
    listen: {
      value: function listen (app: Listenable, ...args: unknown[]): AttachableServer {
        // app.listen() calls server.listen() synchronously; 'listening' comes a
        // tick later, so attaching now misses neither it nor a connection.
        const server = app.listen(...(args as never[]))
        core.attach(server)
        return server
      },
      enumerable: true,
    },
    shutdown: { value: core.shutdown, enumerable: true },
    onClose: { value: core.onClose, enumerable: true },
    onDraining: { value: core.onDraining, enumerable: true },
    track: { value: core.track, enumerable: true },
    markReady: { value: core.markReady, enumerable: true },
    state: { get: () => core.state, enumerable: true },
    signal: { get: () => core.signal, enumerable: true },
    health: { value: health.health, enumerable: true },
    liveness: { value: health.liveness, enumerable: true },
    readiness: { value: health.readiness, enumerable: true },
  }) as GracefulMiddleware
}

/** One warning per instance: forgetting `attach` must not be a silent no-op. Returns true. */
function warnNotAttached (core: Graceful): true {
  const message = 'graceful: a request arrived but no server is attached, so a shutdown cannot drain ' +
    'connections and readiness stays not-ready. Start the server with g.listen(app, port), or call ' +
    'g.attach(server) with the server app.listen() returns. (Expected in tests that use supertest\'s request(app.callback()).)'
  core.options.logger?.warn({ code: ErrorCodes.NOT_ATTACHED }, message)
  process.emitWarning(message, { code: ErrorCodes.NOT_ATTACHED })
  return true
}

/** Same shape as the core's option errors: a `TypeError` with a stable code, naming the option. */
function booleanOption (name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  const received = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || value === null ? String(value) : `a ${typeof value}`
  throw Object.assign(new TypeError(`graceful: option "${name}" must be a boolean, received ${received}`), {
    code: ErrorCodes.INVALID_OPTION,
    option: name,
  })
}
