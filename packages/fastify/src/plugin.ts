import { ErrorCodes, GracefulError, type AttachableServer, type GracefulOptions } from '@graceful/core'
import { createAdapterGraceful, type AdapterView } from '@graceful/core/adapter'
import type { FastifyInstance, FastifyPluginAsync, RawServerBase } from 'fastify'
import fp from 'fastify-plugin'
import { wireClose } from './close.js'
import { serverBindings } from './fastify-internals.js'
import { createGate, gateRoutesWithHooks } from './gate.js'
import { registerHealthRoutes } from './health.js'
import { gateInject } from './inject.js'
import { splitOptions, type HealthRouteOptions } from './options.js'

/**
 * Options of the Fastify plugin: every option of `createGraceful`, plus the
 * health routes' own route options. Fastify's register options apply as to an
 * encapsulated plugin: `prefix` moves the health routes (and the paths the
 * drain gate lets through), `logLevel` sets the level of the plugin's logs and
 * of its health routes.
 */
export interface FastifyGracefulOptions extends Omit<GracefulOptions, 'logger'> {
  /**
   * Where the plugin logs (structured fields, pino-shaped).
   * @default app.log (a child at the register `logLevel` when one is given)
   */
  logger?: GracefulOptions['logger']
  /** Route options of the health routes: `logLevel`, `hide` (from `@fastify/swagger`), `schema`. */
  healthRoutes?: HealthRouteOptions
}

const plugin: FastifyPluginAsync<FastifyGracefulOptions, RawServerBase> = async function graceful (app, options) {
  // Everything that can throw comes first and starts nothing: option
  // validation, double registration, a route clash. The core instance, which
  // takes SIGTERM/SIGINT, is created last, so a failed register leaves no
  // signal listener and no timer behind.
  const { core, routes, extraKeys } = splitOptions(app, options as Record<string, unknown>)
  if (app.hasDecorator('graceful')) {
    throw new GracefulError(ErrorCodes.ALREADY_REGISTERED, '@graceful/fastify is already registered on this app: register it once, at the root, before your routes')
  }
  let instance: AdapterView | undefined
  registerHealthRoutes(app, routes, () => instance as AdapterView)
  const view = instance = createAdapterGraceful(core, { extraKeys })
  const graceful = view.graceful

  app.decorate('graceful', graceful)
  graceful.attach(app.server as AttachableServer)
  attachSecondaryServers(app, graceful.attach)
  gateRoutesWithHooks(app, createGate(view))
  wireClose(app, graceful)
  gateInject(app, view)
}

/**
 * Listening on a name such as `localhost`, Fastify binds one more server per
 * address the name resolves to (e.g. `::1`). They serve the same app, so they
 * are drained too. Fastify keeps them private (fastify-internals.ts); when it
 * no longer does, only `app.server` is tracked.
 */
function attachSecondaryServers (app: FastifyInstance<RawServerBase>, attach: (server: AttachableServer) => unknown): void {
  app.addHook('onListen', function gracefulAttachBindings (done) {
    for (const server of serverBindings(app) ?? []) attach(server)
    done()
  })
}

/**
 * Graceful shutdown for Fastify 5. Decorates `app.graceful` with the core
 * handle; attaches `app.server` (the core answers draining 503s there, at no
 * cost per request while accepting); registers the
 * liveness and readiness routes; and wires `app.close()` and the core's
 * shutdown both ways, so a signal, `app.graceful.shutdown()` and `app.close()`
 * all drain first and run every `onClose` hook exactly once.
 *
 * Register it before your routes: the gate for requests held in an app's own
 * `onRequest` hooks is added to the routes registered after it.
 *
 * @example
 * import Fastify from 'fastify'
 * import graceful from '@graceful/fastify'
 *
 * const app = Fastify({ logger: true })
 * await app.register(graceful, { timeout: 10_000, readinessDelay: 5_000 })
 * app.graceful.onClose(() => db.end(), { name: 'db' })
 * await app.listen({ port: 3000, host: '0.0.0.0' })
 */
export const fastifyGraceful = fp(plugin, {
  name: '@graceful/fastify',
  fastify: '5.x',
})
