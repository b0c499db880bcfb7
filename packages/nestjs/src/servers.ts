import type { Server } from 'node:net'
import type { Graceful } from '@graceful/core'
import { fastifyServerBindings } from './platform-internals.js'

interface FastifyLike {
  addHook: (name: 'onListen', hook: (done: () => void) => void) => unknown
}

/** Attaches the platform's server (the core gates it from the trigger on), and for Fastify the extra servers it binds at listen. */
export function attachServers (platform: string, instance: unknown, server: Server, graceful: Graceful): void {
  graceful.attach(server)
  if (platform === 'fastify') attachFastifyBindings(instance as FastifyLike, graceful)
}

/**
 * Listening on a name such as `localhost` (Fastify's default host, so Nest's
 * `app.listen(3000)`), Fastify binds one more server per address the name
 * resolves to (e.g. `::1`). They serve the same app, so they are drained
 * too. Fastify keeps them private (platform-internals.ts); when it no longer
 * does, only the main server is tracked.
 */
function attachFastifyBindings (fastify: FastifyLike, graceful: Graceful): void {
  fastify.addHook('onListen', function gracefulAttachBindings (done) {
    for (const server of fastifyServerBindings(fastify) ?? []) graceful.attach(server)
    done()
  })
}
