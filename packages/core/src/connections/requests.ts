import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Http2ServerRequest, Http2Session } from 'node:http2'
import { closeHttp2Session } from './http2-goaway.js'
import type { AnyRequest, AnyResponse, CutRequest } from '../types/lifecycle.js'
import { noop } from '../support/noop.js'

// What the shutdown does to one request in flight, whatever its protocol.

/** One request the shutdown waits for, tracked from the trigger on (HTTP/2: from its arrival). */
export interface InFlight {
  req: AnyRequest
  res: AnyResponse
  /** The HTTP/1 socket, or null for an HTTP/2 stream. */
  socket: Socket | null
  /** `Date.now()` when it arrived; null when it was already in flight at the trigger (not recorded per request while accepting). */
  start: number | null
  /** When graceful first saw it: its arrival, or the trigger. */
  seen: number
  rejected: boolean
  cut: boolean
}

/** A response not yet started will carry `Connection: close` (HTTP/1), or its session ends with GOAWAY after it (HTTP/2). */
export function closeAfterResponse (req: AnyRequest, res: AnyResponse, closeSession: (session: Http2Session) => void = closeHttp2Session): void {
  if (req.httpVersionMajor !== 2) {
    if (res.headersSent) return
    closeHttp1(res as ServerResponse)
  } else {
    const session = (req as Http2ServerRequest).stream?.session
    if (session) closeSession(session)
  }
}

function closeHttp1 (res: ServerResponse): void {
  res.setHeader('connection', 'close')
  res.shouldKeepAlive = false
  // A framework's error path may strip every header before writing its
  // error response (Koa's ctx.onerror does): while draining, this
  // response's `Connection: close` stays. Set on the instance, off the hot path.
  if (!Object.hasOwn(res, 'removeHeader')) {
    const removeHeader = res.removeHeader
    res.removeHeader = function keepConnectionClose (this: ServerResponse, name: string) {
      if (name.toLowerCase() !== 'connection') removeHeader.call(this, name)
    }
  }
}

/** The deadline: a real 503 if the response has not started, else destroy it. Reports what it did. */
export function cutRequest (entry: InFlight, now: number, reject: () => void): CutRequest {
  entry.cut = true
  const { req, res } = entry
  const base = { method: req.method ?? 'GET', url: req.url ?? '/', ageMs: now - entry.seen, ageKnown: entry.start !== null }
  // The handler may still write later; that must not become an unhandled 'error'.
  res.on('error', noop)
  if (!res.headersSent && !res.writableEnded && !res.destroyed) {
    reject()
    return { ...base, action: 'rejected' }
  }
  res.destroy()
  return { ...base, action: 'destroyed' }
}

/** One line per request still holding the drain. An age known only from the trigger reads "≥". */
export function describe (entry: InFlight, now: number): string {
  return `request ${entry.req.method ?? 'GET'} ${entry.req.url ?? '/'} (${entry.start === null ? '≥ ' : ''}${now - entry.seen} ms)`
}
