import type { HealthResponse } from '@graceful/core'
import type { AdapterView } from '@graceful/core/adapter'
import type { FastifyInstance, FastifyReply, RawServerBase, RouteGenericInterface, RouteOptions } from 'fastify'
import type { SplitOptions } from './options.js'

const status = (values: string[]) => ({ type: 'string', enum: values })
// `checks` appears with `health.detail: true`: each check's "ok", "error: …" or "timeout after … ms".
const checks = { type: 'object', additionalProperties: { type: 'string' } }
const body = (values: string[], description: string) => ({
  description,
  type: 'object',
  properties: { status: status(values), checks },
  required: ['status'],
})

/**
 * The response shapes, so `@fastify/swagger` documents the 200 and the 503.
 * The handlers send bodies already serialized with a JSON content type, which
 * Fastify sends as they are: the schema documents, it does not re-serialize.
 */
export const healthSchemas = {
  liveness: {
    summary: 'Liveness probe',
    description: '200 while the process is up, through the whole drain: a drain is not a reason to restart.',
    response: { 200: body(['ok'], 'The process is up.') },
  },
  readiness: {
    summary: 'Readiness probe',
    description: '200 while accepting traffic; 503 before startup completes, from the first moment of draining, or when a readiness check fails.',
    response: {
      200: body(['ready'], 'Ready: route traffic here.'),
      503: body(['starting', 'draining', 'unavailable'], 'Not ready: starting, draining, or a readiness check failed.'),
    },
  },
}

/**
 * Liveness and readiness as real routes, so the app's logging, CORS, auth and
 * `onRequest` hooks apply to them as to any route. GET and HEAD, whatever
 * `exposeHeadRoutes` says; Fastify's router ignores the query string.
 * Called before the core instance exists (a duplicate route throws here, and
 * must leave nothing behind): the handlers look it up when they run.
 */
export function registerHealthRoutes (app: FastifyInstance<RawServerBase>, routes: SplitOptions['routes'], view: () => AdapterView): void {
  const { liveness, readiness, options } = routes
  const common = (schema: Record<string, unknown>): Partial<RouteOptions<RawServerBase>> => ({
    method: ['GET', 'HEAD'],
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    schema: { ...schema, ...options.schema, ...(options.hide === undefined ? {} : { hide: options.hide }), response: schema.response },
  })

  if (liveness !== false) {
    app.route({
      ...common(healthSchemas.liveness),
      method: ['GET', 'HEAD'],
      url: liveness,
      handler: function gracefulLiveness (_request, reply) {
        return send(reply, view().liveness())
      },
    })
  }
  if (readiness !== false) {
    app.route({
      ...common(healthSchemas.readiness),
      method: ['GET', 'HEAD'],
      url: readiness,
      handler: async function gracefulReadiness (_request, reply) {
        return send(reply, await view().readiness())
      },
    })
  }
}

function send (reply: FastifyReply<RouteGenericInterface, RawServerBase>, answer: HealthResponse): FastifyReply<RouteGenericInterface, RawServerBase> {
  // The body is already JSON: with a JSON content type Fastify sends a string as is.
  return reply.code(answer.statusCode).headers(answer.headers).send(answer.body)
}
