import type { Graceful, HealthResponse } from '@graceful/core'
import type { FastifyInstance, FastifyReply, RawServerBase, RouteGenericInterface } from 'fastify'

/**
 * Liveness and readiness as real routes, so the app's logging, CORS, auth and
 * `onRequest` hooks apply to them as to any route. GET and HEAD, whatever
 * `exposeHeadRoutes` says; Fastify's router ignores the query string.
 */
export function registerHealthRoutes (app: FastifyInstance<RawServerBase>, graceful: Graceful): void {
  const { liveness, readiness } = graceful.options.health

  if (liveness !== false) {
    app.route({
      method: ['GET', 'HEAD'],
      url: liveness,
      handler: function gracefulLiveness (_request, reply) {
        return send(reply, graceful.liveness())
      },
    })
  }
  if (readiness !== false) {
    app.route({
      method: ['GET', 'HEAD'],
      url: readiness,
      handler: async function gracefulReadiness (_request, reply) {
        return send(reply, await graceful.readiness())
      },
    })
  }
}

function send (reply: FastifyReply<RouteGenericInterface, RawServerBase>, answer: HealthResponse): FastifyReply<RouteGenericInterface, RawServerBase> {
  // The body is already JSON: with a JSON content type Fastify sends a string as is.
  return reply.code(answer.statusCode).headers(answer.headers).send(answer.body)
}
