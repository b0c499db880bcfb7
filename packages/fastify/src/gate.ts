import type { Graceful } from '@graceful/core'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RawServerBase, RouteGenericInterface } from 'fastify'

/**
 * The earliest hook: while accepting it costs one comparison. While draining
 * the core decides: serve (it adds `Connection: close`) or answer the draining
 * 503 here, through the reply so `onSend`/`onResponse` hooks and request
 * logging still see it, but never through the error handler: Fastify logs
 * every 5xx error at error level, and a drain is not an error.
 */
export function createGate (graceful: Graceful) {
  return function gracefulGate (request: FastifyRequest<RouteGenericInterface, RawServerBase>, reply: FastifyReply<RouteGenericInterface, RawServerBase>, done: HookHandlerDoneFunction): void {
    if (graceful.gate(request.raw, reply.raw) === 'serve') {
      done()
      return
    }
    // Responding from a callback hook: send, and do not call done().
    // https://fastify.dev/docs/latest/Reference/Hooks/#respond-to-a-request-from-a-hook
    // rejectionFor() leaves out `Connection` on HTTP/2, which forbids it.
    const rejection = graceful.rejectionFor(request.raw)
    void reply.code(rejection.statusCode).headers(rejection.headers).send(rejection.body)
  }
}
