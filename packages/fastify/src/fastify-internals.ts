import type { AttachableServer } from '@graceful/core'
import { symbolNamed } from '@graceful/core/adapter'

// Every private Fastify field this plugin reads, and only here. No public API
// gives what these give; each is read off the hot path (when a route is
// built, once at listen), feature-detected, and has a fallback:
//
//   field                                   read by     fallback when it is gone
//   instance[Symbol(fastify.hooks)]         gate.ts     every route gets the gate (correct, a hook runner per request)
//   app[Symbol(fastify.serverBindings)]     plugin.ts   only app.server is drained (a second address, e.g. ::1, is not)
//
// Checked on Fastify 5.12 (https://github.com/fastify/fastify/blob/v5.12.8/lib/symbols.js).
// `fastify-internals.test.ts` fails on the Fastify that changes one of them;
// `fastify-internals-fallback.test.ts` forces every fallback.

/**
 * How many hooks of this kind the instance has (its own and inherited), or
 * null if Fastify's internals changed. An encapsulated instance inherits its
 * parent's hooks through its prototype, so the chain is walked.
 * https://github.com/fastify/fastify/blob/v5.12.8/lib/route.js#L394
 */
export function instanceHooks (instance: object, name: string): number | null {
  for (let object: object | null = instance; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    const key = symbolNamed(object, 'fastify.hooks')
    if (key === undefined) continue
    const list = (object as Record<symbol, Record<string, unknown> | undefined>)[key]?.[name]
    return Array.isArray(list) ? list.length : null
  }
  return null
}

/**
 * The extra servers Fastify binds when it listens on a name such as
 * `localhost`: one per further address the name resolves to (e.g. `::1`),
 * serving the same app. Null if Fastify's internals changed.
 * https://github.com/fastify/fastify/blob/v5.12.8/lib/server.js#L151
 */
export function serverBindings (app: object): AttachableServer[] | null {
  const key = symbolNamed(app, 'fastify.serverBindings')
  const bindings = key === undefined ? undefined : (app as Record<symbol, unknown>)[key]
  return Array.isArray(bindings) ? bindings as AttachableServer[] : null
}
