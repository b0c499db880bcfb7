import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Graceful } from '@graceful/core'
import { adapterView, type HealthEndpoint } from '@graceful/core/adapter'

/** What the health routes need of Express: `app.get()`. */
interface ExpressLike {
  get: (path: string, handler: (req: IncomingMessage, res: ServerResponse) => void) => unknown
}
/** What they need of Fastify: `route()` and a reply. */
interface FastifyReplyLike {
  code: (statusCode: number) => FastifyReplyLike
  headers: (headers: Record<string, string>) => FastifyReplyLike
  send: (body: string) => FastifyReplyLike
}
interface FastifyLike {
  route: (options: { method: string[], url: string, handler: (request: unknown, reply: FastifyReplyLike) => Promise<FastifyReplyLike> }) => unknown
}

/**
 * Liveness and readiness as real routes of the platform, so its logging,
 * CORS, hooks and middleware apply to them. They are registered on the
 * platform instance at their configured full paths, outside Nest's router:
 * `setGlobalPrefix()` does not move them, so the gate (which matches the same
 * paths on the raw URL) and the routes always agree. GET and HEAD.
 */
export function registerHealthRoutes (platform: string, instance: unknown, graceful: Graceful): boolean {
  const view = adapterView(graceful)
  const routes = (['liveness', 'readiness'] as const)
    .map((endpoint) => [endpoint, graceful.options.health[endpoint]] as const)
    .filter((route): route is readonly [HealthEndpoint, string] => route[1] !== false)
  if (platform === 'fastify') {
    for (const [endpoint, url] of routes) {
      (instance as FastifyLike).route({
        method: ['GET', 'HEAD'],
        url,
        handler: async function gracefulHealth (_request, reply) {
          const answer = endpoint === 'liveness' ? view.liveness() : await view.readiness()
          // The body is already JSON: with a JSON content type Fastify sends a string as is.
          return reply.code(answer.statusCode).headers(answer.headers).send(answer.body)
        },
      })
    }
    return true
  }
  if (platform === 'express') {
    for (const [endpoint, path] of routes) {
      // Express answers HEAD with the GET route.
      (instance as ExpressLike).get(path, function gracefulHealth (req, res) {
        view.answerHealth(endpoint, req, res).catch((error: unknown) => { res.destroy(error as Error) })
      })
    }
    return true
  }
  return false
}
