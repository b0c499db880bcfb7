import type { Server } from 'node:net'
import { symbolNamed } from '@graceful/core/adapter'

// Every private field of a Nest platform this package reads, and only here.
// No public API gives it; it is read once at listen, feature-detected, and
// has a fallback:
//
//   field                                       read by      fallback when it is gone
//   fastify[Symbol(fastify.serverBindings)]     servers.ts   only the platform's main server is drained
//
// The same field @graceful/fastify reads (its fastify-internals.ts): this
// package does not depend on that one, so the description is named here too.
// Checked on Fastify 5.12 under @nestjs/platform-fastify 12.
// `platform-internals.test.ts` fails on the Fastify that changes it;
// `platform-internals-fallback.test.ts` forces the fallback.

/**
 * The extra servers Fastify binds when it listens on a name such as
 * `localhost` (Nest's `app.listen(3000)`): one per further address the name
 * resolves to (e.g. `::1`). Null if Fastify's internals changed.
 * https://github.com/fastify/fastify/blob/v5.12.8/lib/server.js#L151
 */
export function fastifyServerBindings (fastify: object): Server[] | null {
  const key = symbolNamed(fastify, 'fastify.serverBindings')
  const bindings = key === undefined ? undefined : (fastify as Record<symbol, unknown>)[key]
  return Array.isArray(bindings) ? bindings as Server[] : null
}
