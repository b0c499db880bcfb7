import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { writeAnswer } from '../answers/answer.js'
import type { Rejection } from '../types/lifecycle.js'
import { reuseGraceMs } from './http1-reuse.js'
import type { InFlight } from './requests.js'

/**
 * The 503 on a tracked HTTP/1 request. A client still uploading its body reads
 * the 503, then the rest of its body is read and discarded before the socket
 * closes: node:http would destroy it with bytes unread, which the client sees
 * as a reset instead of the 503. Go's http.Server stops at 256 KiB; a client
 * that writes its whole body before reading (Python's requests) then never
 * reads the 503. So the discard goes on while the client sends, up to `limit`
 * bytes (the `rejectedBodyLimit` option), and until the drain deadline at most
 * (a discarding socket holds the drain; the deadline destroys it).
 */
export function createBodyDiscard (limit: number, changed: () => void) {
  // Sockets reading the rest of a body after its 503.
  const discarding = new Set<Socket>()

  function reject (entry: InFlight, rejection: Rejection): void {
    entry.rejected = true
    writeAnswer(entry.req, entry.res, rejection)
    const req = entry.req as IncomingMessage
    const socket = entry.socket as Socket & { destroySoon?: () => void }
    if (req.complete || Object.hasOwn(socket, 'destroySoon') || typeof socket.destroySoon !== 'function') return
    // Counting the bytes read takes a 'data' listener, which makes node:http
    // stop feeding its parser natively: added now, before anything paused the
    // socket (added later, a paused socket never resumes).
    let discardEnd = Infinity
    socket.on('data', function countDiscarded (this: Socket) {
      if (this.bytesRead <= discardEnd) return
      // Past the bound: stop reading, and give the client a moment to read
      // its 503 before the close (unread bytes make it a reset).
      discardEnd = Infinity
      this.pause()
      setTimeout(stopDiscarding, reuseGraceMs, this).unref()
    })
    // node:http calls destroySoon() once a `Connection: close` response is
    // written (`resOnFinish`); this socket's own replacement discards first.
    const destroySoon = socket.destroySoon
    socket.destroySoon = function discardThenClose (this: Socket) {
      if (req.complete || this.destroyed) return destroySoon.call(this)
      discarding.add(this)
      discardEnd = this.bytesRead + limit
      this.end()
      // node:http resumed the request (`req._dump()`): its body flows to nowhere until it ends.
      req.once('end', () => stopDiscarding(this))
    }
  }

  function stopDiscarding (socket: Socket): void {
    if (!discarding.delete(socket)) return
    socket.destroy()
    changed()
  }

  return {
    reject,
    has: (socket: Socket) => discarding.has(socket),
    /** The socket closed. */
    forget: (socket: Socket): void => { discarding.delete(socket) },
    get size () { return discarding.size },
  }
}
