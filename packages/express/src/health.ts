import type { IncomingMessage, ServerResponse } from 'node:http'
import { requestUrl, type AdapterView, type HealthEndpoint } from '@graceful/core/adapter'
import type { Middleware, NextFunction } from './types.js'

/** The health handlers of one instance; `answer` is what the gate calls. */
export function createHealth (view: AdapterView) {
  /**
   * Answers `endpoint` if this is a GET or HEAD; false if the request is not
   * for us. Written on the raw response by the core (no ETag, no Express
   * content negotiation, the same bytes in Express 4 and 5).
   */
  function answer (endpoint: HealthEndpoint | null, req: IncomingMessage, res: ServerResponse, next: NextFunction): boolean {
    if (endpoint === null || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    view.answerHealth(endpoint, req, res).catch(next)
    return true
  }

  // Named functions: they show up as such in stack traces and Express's router.
  // Matched on requestUrl(req), Express's req.originalUrl: the URL the core's gate matches.
  const health: Middleware = function gracefulHealth (req, res, next) {
    if (!answer(view.matchHealth(requestUrl(req)), req, res, next)) next()
  }
  const liveness: Middleware = function gracefulLiveness (req, res, next) {
    if (!answer('liveness', req, res, next)) next()
  }
  const readiness: Middleware = function gracefulReadiness (req, res, next) {
    if (!answer('readiness', req, res, next)) next()
  }

  return { answer, health, liveness, readiness }
}
