import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Graceful, HealthResponse } from '@graceful/core'

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

type Endpoint = 'liveness' | 'readiness'

/**
 * Liveness and readiness as real routes of the platform, so its logging,
 * CORS, hooks and middleware apply to them. They are registered on the
 * platform instance at their configured full paths, outside Nest's router:
 * `setGlobalPrefix()` does not move them, so the gate (which matches the same
 * paths on the raw URL) and the routes always agree. GET and HEAD.
 */
export function registerHealthRoutes (platform: string, instance: unknown, graceful: Graceful): boolean {
  const routes = (['liveness', 'readiness'] as const)
    .map((endpoint) => [endpoint, graceful.options.health[endpoint]] as const)
    .filter((route): route is readonly [Endpoint, string] => route[1] !== false)
  if (platform === 'fastify') {
    for (const [endpoint, url] of routes) {
      (instance as FastifyLike).route({
        method: ['GET', 'HEAD'],
        url,
        handler: async function gracefulHealth (_request, reply) {
          const answer = await respond(graceful, endpoint)
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
        respond(graceful, endpoint).then((answer) => {
          // A readiness check that outlived the drain deadline: the request was already answered.
          if (res.headersSent) return
          res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) })
          res.end(req.method === 'HEAD' ? undefined : answer.body)
        }, (error: unknown) => { res.destroy(error as Error) })
      })
    }
    return true
  }
  return false
}

function respond (graceful: Graceful, endpoint: Endpoint): Promise<HealthResponse> {
  return endpoint === 'liveness' ? Promise.resolve(graceful.liveness()) : graceful.readiness()
}
