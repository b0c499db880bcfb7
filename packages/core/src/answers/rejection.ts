import { ErrorCodes } from '../support/errors.js'
import type { AnyRequest, Rejection } from '../types/lifecycle.js'

/** The draining 503, and its HTTP/2 twin without `Connection` (forbidden there: Node throws). */
export function createRejection (retryAfter: number): { rejectionFor: (req: AnyRequest) => Rejection, rejection: Rejection } {
  const rejection: Rejection = {
    statusCode: 503,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      connection: 'close',
      'retry-after': String(retryAfter),
    },
    body: JSON.stringify({
      statusCode: 503,
      code: ErrorCodes.DRAINING,
      error: 'Service Unavailable',
      message: 'The server is shutting down. Retry on a new connection.',
    }),
  }
  const h2: Rejection = {
    ...rejection,
    headers: Object.fromEntries(Object.entries(rejection.headers).filter(([name]) => name !== 'connection')),
  }
  return { rejection, rejectionFor: (req) => req.httpVersionMajor === 2 ? h2 : rejection }
}
