import type { Http2Session } from 'node:http2'
import { Socket } from 'node:net'
import { debuglog } from 'node:util'
import { sessionSocket } from '../support/node-internals.js'

// HTTP/2's graceful shutdown, RFC 9113 §6.8:
//
//   "A server that is attempting to gracefully shut down a connection SHOULD
//    send an initial GOAWAY frame with the last stream identifier set to
//    2^31-1 and a NO_ERROR code. This signals to the client that a shutdown
//    is imminent and that initiating further requests is prohibited. After
//    allowing time for any in-flight stream creation (at least one round-trip
//    time), the server MAY send another GOAWAY frame with an updated last
//    stream identifier."
//
// `session.close()` alone sends one GOAWAY carrying the last stream nghttp2
// processed, so a request the client opened while that frame was on the wire
// is refused (REFUSED_STREAM). Doing better needs a first GOAWAY that does not
// stop the server: nghttp2 has one (nghttp2_submit_shutdown_notice), Node does
// not expose it, and `session.goaway(code, 2^31-1)` is no substitute — nghttp2
// ignores every new stream once any GOAWAY of its own is sent, and Node even
// stops reading an idle session. So the first GOAWAY is written here, as the
// 17 bytes RFC 9113 §6.8 defines, on the session's socket at a frame boundary
// (nghttp2 hands Node whole frames); nghttp2 never learns of it and keeps
// accepting streams. A PING round trip proves the client has seen it (frames
// are ordered: HEADERS it sent before reading our GOAWAY arrive before its PING
// ack). Then `close()` sends nghttp2's own GOAWAY with the last stream really
// processed, and open streams run to completion.
// https://github.com/nodejs/node/blob/v20.19.0/lib/internal/http2/core.js (close, goaway)
// https://nghttp2.org/documentation/nghttp2_submit_shutdown_notice.html

const debug = debuglog('graceful')

// GOAWAY: length 8, type 0x7, no flags, stream 0; last stream 2^31-1, NO_ERROR.
const shutdownNotice = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0])
// Marks a session in its two-phase close; Symbol.for: two loaded copies agree.
const closing = Symbol.for('graceful.http2.closing')

export interface GoawayOptions {
  /** How long to wait for the PING ack before sending the final GOAWAY anyway. @default 1000 */
  pingTimeout?: number
}

/**
 * Closes an HTTP/2 session gracefully in two phases: GOAWAY(2^31−1), one PING
 * round trip (bounded by `pingTimeout`), then `session.close()` — the final
 * GOAWAY with the last stream actually processed; open streams run to
 * completion. Use it wherever you would call `session.close()`. Idempotent.
 * Cleartext HTTP/2 (h2c) over a real TCP or pipe socket only: over TLS, over
 * any other stream (`server.emit('connection', duplex)`), and whenever the
 * session's socket cannot be reached (see {@link socketOf}), it is the
 * one-phase `close()`.
 */
export function closeHttp2Session (session: Http2Session, options: GoawayOptions = {}): void {
  const marked = session as Http2Session & { [closing]?: true }
  if (session.closed || session.destroyed || marked[closing]) return
  marked[closing] = true
  const pingTimeout = options.pingTimeout ?? 1000
  let done = false
  const finish = (why: string) => {
    if (done) return
    done = true
    clearTimeout(timer)
    session.off('close', onClose)
    session.off('localSettings', begin)
    debug('http2: final GOAWAY (%s)', why)
    if (!session.closed && !session.destroyed) session.close()
  }
  const onClose = () => finish('session closed')
  session.once('close', onClose)
  const timer = setTimeout(finish, pingTimeout, 'ping timeout')
  timer.unref()

  function begin (): void {
    const socket = socketOf(session)
    if (!socket || socket.destroyed || !socket.writable) return finish('socket unavailable')
    try {
      socket.write(shutdownNotice)
      // ping() returns false when too many pings are outstanding: no round trip to wait for.
      if (!session.ping((error) => finish(error ? 'ping failed' : 'ping ack'))) finish('ping not sent')
    } catch (error) {
      debug('http2: two-phase GOAWAY unavailable: %o', error)
      finish('ping failed')
    }
  }
  // Our first frame must be SETTINGS: a session whose SETTINGS are not yet acknowledged waits for that.
  if (session.pendingSettingsAck) session.once('localSettings', begin)
  else begin()
}

/**
 * The socket under a session (a private field: see node-internals.ts), read
 * only at the drain; without it the drain falls back to the one-phase close.
 */
function socketOf (session: Http2Session): Socket | undefined {
  const socket = sessionSocket(session)
  // Only a plain net.Socket, what a net.Server accepts over TCP or a pipe: its
  // writes queue in libuv, in order. Anything else takes one write at a time
  // and kills the process when JS writes while nghttp2's write is pending:
  // TLSWrap aborts (`Assert(!current_write_)`, so h2 over TLS keeps the
  // one-phase close), and so does the JSStreamSocket http2 wraps any other
  // Duplex in (`server.emit('connection', duplex)`: PROXY-protocol parsers,
  // in-process tunnels) with ERR_INTERNAL_ASSERTION. Both are subclasses of
  // net.Socket, told apart by the prototype rather than instanceof TLSSocket:
  // importing node:tls would load the TLS stack for every app.
  if (!(socket instanceof Socket) || Object.getPrototypeOf(socket) !== Socket.prototype) return undefined
  return socket
}
