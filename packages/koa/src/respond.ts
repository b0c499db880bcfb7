import type { HealthResponse } from '@graceful/core'
import type { Rejection } from '@graceful/core/adapter'
import type { KoaContextLike } from './types.js'

/**
 * Answers through Koa's own response (status, headers, body), so Koa's
 * `respond()` sets the length and strips the body of a HEAD. Nothing is
 * thrown: Koa's `onerror` and the app's `'error'` event never see these.
 */
export function send (ctx: KoaContextLike, answer: HealthResponse | Rejection): void {
  ctx.status = answer.statusCode
  // Headers first: with a Content-Type in place, the body setter keeps it.
  ctx.set(answer.headers)
  ctx.body = answer.body
}

/**
 * Koa's `ctx.onerror` removes every header before it writes the error
 * response (koa/lib/context.js), the `Connection: close` the drain added
 * included, then sets `err.headers`. So while draining, an error on its way
 * to Koa carries `connection: close` in its headers (a copy: a shared
 * `headers` object is never changed). Errors an error-handling middleware
 * catches never get here, and keep the header anyway.
 */
export function keepConnectionClose (ctx: KoaContextLike, error: unknown): void {
  if (ctx.req.httpVersionMajor === 2 || ctx.res.headersSent) return
  // Koa replaces anything that is not an Error; then there is nothing to carry the header.
  if (!(error instanceof Error) && Object.prototype.toString.call(error) !== '[object Error]') return
  const carrier = error as Error & { headers?: Record<string, string> }
  try {
    carrier.headers = { ...carrier.headers, connection: 'close' }
  } catch {
    // A frozen error: the drain still ends the socket once it is idle; the
    // client is just not told in advance.
  }
}
