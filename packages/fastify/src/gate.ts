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
  const { rejection } = graceful
  // HTTP/2 forbids connection-specific headers (Node throws on them).
  const h2Headers = Object.fromEntries(Object.entries(rejection.headers).filter(([name]) => name !== 'connection'))

  return function gracefulGate (request: FastifyRequest<RouteGenericInterface, RawServerBase>, reply: FastifyReply<RouteGenericInterface, RawServerBase>, done: HookHandlerDoneFunction): void {
    if (graceful.gate(request.raw, reply.raw) === 'serve') {
      done()
      return
    }
    // Responding from a callback hook: send, and do not call done().
    // https://fastify.dev/docs/latest/Reference/Hooks/#respond-to-a-request-from-a-hook
    void reply
      .code(rejection.statusCode)
      .headers(request.raw.httpVersionMajor === 2 ? h2Headers : rejection.headers)
      .send(rejection.body)
  }
}
