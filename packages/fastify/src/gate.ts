import type { AdapterView } from '@graceful/core/adapter'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RawServerBase, RouteGenericInterface, RouteOptions } from 'fastify'
import { instanceHooks } from './fastify-internals.js'

type OnRequest = (request: FastifyRequest<RouteGenericInterface, RawServerBase>, reply: FastifyReply<RouteGenericInterface, RawServerBase>, done: HookHandlerDoneFunction) => void

/**
 * The draining 503 is answered by the core, at the server, before Fastify
 * sees the request (the core takes over the server's request listeners when
 * the shutdown starts): graceful adds no hook of its own while accepting, since a
 * single `onRequest` hook switches every request onto Fastify's hook runner.
 *
 * One case needs a hook: a request that arrived before the drain and is held
 * in an `onRequest` hook of the app (auth, say) until the drain has begun.
 * On routes that already run `onRequest` hooks, this gate is appended after
 * them (one more call where a hook runner runs anyway), and answers that
 * request with the 503 through the reply, so `onSend`/`onResponse` hooks and
 * request logging still see it, but never through the error handler: Fastify
 * logs every 5xx error at error level, and a drain is not an error.
 */
export function createGate (view: AdapterView): OnRequest {
  return function gracefulGate (request, reply, done): void {
    if (view.gate(request.raw, reply.raw) === 'serve') {
      done()
      return
    }
    // Responding from a callback hook: send, and do not call done().
    // https://fastify.dev/docs/latest/Reference/Hooks/#respond-to-a-request-from-a-hook
    // rejectionFor() leaves out `Connection` on HTTP/2, which forbids it.
    const rejection = view.rejectionFor(request.raw)
    void reply.code(rejection.statusCode).headers(rejection.headers).send(rejection.body)
  }
}

/**
 * Adds the gate to each route that has other `onRequest` hooks, decided when
 * Fastify builds the route's hook list (at ready, once every hook is known):
 * Fastify reads the route's `onRequest` option then, and this getter answers.
 * Knowing whether the route's instance has `onRequest` hooks takes Fastify's
 * private hooks symbol (fastify-internals.ts); without it, every route gets
 * the gate (correct, only slower).
 */
export function gateRoutesWithHooks (app: FastifyInstance<RawServerBase>, gate: OnRequest): void {
  app.addHook('onRoute', function gracefulGateRoute (this: FastifyInstance<RawServerBase>, routeOptions: RouteOptions<RawServerBase>) {
    gateRoute(this, routeOptions, gate)
  })
}

function gateRoute (instance: object, routeOptions: RouteOptions<RawServerBase>, gate: OnRequest): void {
    let own = routeOptions.onRequest as OnRequest | OnRequest[] | undefined
    Object.defineProperty(routeOptions, 'onRequest', {
      configurable: true,
      enumerable: true,
      get () {
        const list = own === undefined ? [] : Array.isArray(own) ? own : [own]
        const inherited = instanceHooks(instance, 'onRequest')
        if (inherited !== null && inherited === 0 && list.length === 0) return own
        return [...list, gate]
      },
      set (value: OnRequest | OnRequest[] | undefined) { own = value },
    })
}
