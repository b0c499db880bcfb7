import type { Http2ServerRequest } from 'node:http2'
import type { InFlight } from './connections.js'
import { closeHttp2Session } from './http2-goaway.js'
import { writeRejection } from './rejection.js'
import type { CutRequest, Rejection } from './types.js'

// What the drain does to one request in flight.

/** A response not yet started will carry `Connection: close` (HTTP/1), or its session ends with GOAWAY after it (HTTP/2). */
export function closeAfterResponse (entry: InFlight): void {
  if (entry.socket) {
    if (!entry.res.headersSent) entry.res.setHeader('connection', 'close')
  } else {
    const session = (entry.req as Http2ServerRequest).stream?.session
    // Two-phase GOAWAY, then the open streams finish.
    if (session) closeHttp2Session(session)
  }
}

/** The deadline: a real 503 if the response has not started, else destroy it. Reports what it did. */
export function cutRequest (entry: InFlight, rejection: Rejection, now: number): CutRequest {
  entry.cut = true
  const { req, res } = entry
  const base = { method: req.method ?? 'GET', url: req.url ?? '/', ageMs: now - entry.start }
  // The handler may still write later; that must not become an unhandled 'error'.
  res.on('error', noop)
  if (!res.headersSent && !res.writableEnded && !res.destroyed) {
    writeRejection(entry, rejection)
    return { ...base, action: 'rejected' }
  }
  res.destroy()
  return { ...base, action: 'destroyed' }
}

/** One line per request still holding the drain. */
export function describe (entry: InFlight, now: number): string {
  return `request ${entry.req.method ?? 'GET'} ${entry.req.url ?? '/'} (${now - entry.start} ms)`
}

function noop (): void {}
