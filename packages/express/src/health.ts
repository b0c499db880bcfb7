import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Graceful, HealthResponse } from '@graceful/core'
import type { Middleware, NextFunction } from './types.js'

type Endpoint = 'liveness' | 'readiness'

/** The health handlers of one instance; `answer` is what the gate calls. */
export function createHealth (core: Graceful) {
  /** Answers `endpoint` if this is a GET or HEAD; false if the request is not for us. */
  function answer (endpoint: Endpoint | null, req: IncomingMessage, res: ServerResponse, next: NextFunction): boolean {
    if (endpoint === null || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    if (endpoint === 'liveness') {
      write(core.liveness(), req, res)
    } else {
      core.readiness().then((response) => write(response, req, res)).catch(next)
    }
    return true
  }

  // Named functions: they show up as such in stack traces and Express's router.
  const health: Middleware = function gracefulHealth (req, res, next) {
    if (!answer(core.matchHealth(fullUrl(req)), req, res, next)) next()
  }
  const liveness: Middleware = function gracefulLiveness (req, res, next) {
    if (!answer('liveness', req, res, next)) next()
  }
  const readiness: Middleware = function gracefulReadiness (req, res, next) {
    if (!answer('readiness', req, res, next)) next()
  }

  return { answer, health, liveness, readiness }
}

/**
 * The URL as the client sent it: Express strips the mount path from `req.url`
 * inside `app.use('/internal', …)` and keeps the original in `req.originalUrl`
 * (https://expressjs.com/en/api.html#req.originalUrl). Health paths are
 * configured as full paths, so they match wherever the handler is mounted.
 */
export function fullUrl (req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url
}

// Written on the raw response, as the core does: no ETag, no Express content
// negotiation, the same bytes in Express 4 and 5.
function write (response: HealthResponse, req: IncomingMessage, res: ServerResponse): void {
  // A readiness check that outlived the drain deadline: the request was already answered.
  if (res.headersSent || res.writableEnded) return
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': String(Buffer.byteLength(response.body)) })
  res.end(req.method === 'HEAD' ? undefined : response.body)
}
