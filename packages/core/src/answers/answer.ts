import type { AnyRequest, AnyResponse, HealthResponse, Rejection } from '../types/lifecycle.js'

/**
 * Writes one of graceful's own answers (the draining 503, a health answer) on
 * the raw response: the one place that does, for the core and every adapter
 * that answers on the raw response. `Content-Length` from the body; no
 * `Connection` on HTTP/2 (forbidden there: Node throws); no body for `HEAD`.
 * A response that has started already (a readiness check that outlived the
 * drain deadline, whose request was cut meanwhile) is left alone.
 */
export function writeAnswer (req: AnyRequest, res: AnyResponse, answer: HealthResponse | Rejection): void {
  if (res.headersSent || res.writableEnded) return
  const headers: Record<string, string> = { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) }
  if (req.httpVersionMajor === 2) delete headers.connection
  res.writeHead(answer.statusCode, headers)
  if (req.method === 'HEAD') res.end()
  else res.end(answer.body)
}
