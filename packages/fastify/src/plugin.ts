import { createGraceful, type AttachableServer, type GracefulOptions, type Logger } from '@graceful/core'
import type { FastifyInstance, FastifyPluginAsync, RawServerBase } from 'fastify'
import fp from 'fastify-plugin'
import { wireClose } from './close.js'
import { createGate, gateRoutesWithHooks } from './gate.js'
import { registerHealthRoutes } from './health.js'

/**
 * Options of the Fastify plugin: every option of `createGraceful`; `logger`
 * defaults to `app.log`.
 */
export type FastifyGracefulOptions = GracefulOptions

// Keys Fastify itself reads from register options and passes on to the plugin.
const registerKeys = new Set(['prefix', 'logLevel', 'logSerializers'])

const plugin: FastifyPluginAsync<FastifyGracefulOptions, RawServerBase> = async function graceful (app, options) {
  const coreOptions: GracefulOptions = {}
  for (const [key, value] of Object.entries(options)) {
    if (!registerKeys.has(key)) (coreOptions as Record<string, unknown>)[key] = value
  }
  // Throws here, at register time, on a bad option: nothing starts half-configured.
  const graceful = createGraceful({ ...coreOptions, logger: coreOptions.logger ?? (app.log as Logger) })

  app.decorate('graceful', graceful)
  graceful.attach(app.server as AttachableServer)
  attachSecondaryServers(app, graceful.attach)
  gateRoutesWithHooks(app, createGate(graceful))
  registerHealthRoutes(app, graceful)
  wireClose(app, graceful)
}

/**
 * Listening on a name such as `localhost`, Fastify binds one more server per
 * address the name resolves to (e.g. `::1`). They serve the same app, so they
 * are drained too. Fastify keeps them under a private symbol; when it is not
 * there, only `app.server` is tracked.
 * https://github.com/fastify/fastify/blob/v5.12.8/lib/server.js#L151
 */
function attachSecondaryServers (app: FastifyInstance<RawServerBase>, attach: (server: AttachableServer) => unknown): void {
  app.addHook('onListen', function gracefulAttachBindings (done) {
    const key = Object.getOwnPropertySymbols(app).find((symbol) => symbol.description === 'fastify.serverBindings')
    const bindings = key === undefined ? undefined : (app as unknown as Record<symbol, unknown>)[key]
    if (Array.isArray(bindings)) for (const server of bindings) attach(server as AttachableServer)
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
