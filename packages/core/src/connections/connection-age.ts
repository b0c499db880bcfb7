import type { Http2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { debuglog } from 'node:util'
import { invalidOption } from '../support/errors.js'
import { duration } from '../support/duration.js'
import { closeHttp2Session } from './http2-goaway.js'
import { closeAfterNextRequest, currentResponse, loopTime, msSinceActivity } from '../support/node-internals.js'
import { closeAfterResponse } from './requests.js'
import type { ConnectionAge } from '../types/options.js'

// A maximum connection age (gRPC's MAX_CONNECTION_AGE, Envoy's
// max_connection_duration): after a rolling restart, pooled keep-alive clients
// stay on the instances that came up first; capping each connection's age
// moves them, a few at a time (jitter), to wherever the balancer or the DNS
// now points. One unref'd timer per connection, armed at its acceptance;
// nothing per request.

const debug = debuglog('graceful')
// An aged connection idle this long is closed (a FIN). One active more recently
// is left for its next request, which node:http answers with `Connection:
// close` (the parser hook): closing it now could cross a request on the wire.
// Far above the drain's 50 ms reuse grace: the drain has to close now, the age does not.
const idleMs = 1000

/** Validates `maxConnectionAge`, `maxConnectionAgeJitter` and `maxConnectionAgeGrace`. */
export function resolveConnectionAge (
  input: { maxConnectionAge?: number | false, maxConnectionAgeJitter?: number, maxConnectionAgeGrace?: number },
): ConnectionAge | null {
  const { maxConnectionAge, maxConnectionAgeJitter: jitter, maxConnectionAgeGrace } = input
  if (maxConnectionAge === undefined || maxConnectionAge === false) {
    if (jitter !== undefined || maxConnectionAgeGrace !== undefined) {
      throw invalidOption(jitter !== undefined ? 'maxConnectionAgeJitter' : 'maxConnectionAgeGrace', 'set only with maxConnectionAge', jitter ?? maxConnectionAgeGrace)
    }
    return null
  }
  const age = duration('maxConnectionAge', maxConnectionAge, 0)
  if (age === 0) throw invalidOption('maxConnectionAge', 'a duration above 0 ms, or false', 0)
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))) {
    throw invalidOption('maxConnectionAgeJitter', 'a fraction of maxConnectionAge from 0 to 1 (0.1: ±10 %)', jitter)
  }
  const grace = maxConnectionAgeGrace === undefined ? null : duration('maxConnectionAgeGrace', maxConnectionAgeGrace, 0)
  return { age, jitter: jitter ?? 0.1, grace }
}

/** The age of one connection: `age` ± `jitter`, so the connections of one deploy do not all leave at once. */
export function jittered (config: ConnectionAge, random: () => number = Math.random): number {
  return Math.max(1, Math.round(config.age * (1 + config.jitter * (2 * random() - 1))))
}

/**
 * Ages the connections of the attached servers while `accepting()` holds;
 * from the trigger on, the drain closes every connection anyway. `closeNext`
 * is node-internals' parser hook; without it, each aged connection is watched
 * until it is idle or serving a response not yet started (tests force that).
 */
export function createConnectionAges (config: ConnectionAge, accepting: () => boolean, closeNext: (socket: Socket) => boolean = closeAfterNextRequest) {
  const timers = new Map<Socket | Http2Session, NodeJS.Timeout>()

  function onClose (this: Socket | Http2Session): void {
    clearTimeout(timers.get(this))
    timers.delete(this)
  }

  function arm<C extends Socket | Http2Session> (connection: C, expire: (connection: C) => void): void {
    const timer = setTimeout(expire, jittered(config), connection)
    timer.unref()
    timers.set(connection, timer)
    connection.once('close', onClose)
  }

  /**
   * An HTTP/1 connection past its age: the response it is serving (or the next
   * one) carries `Connection: close`; an idle one is closed as the drain closes
   * idle connections, with a FIN, once it has been idle past the reuse grace.
   */
  function expireHttp1 (socket: Socket): void {
    timers.delete(socket)
    if (!accepting() || socket.destroyed) return
    debug('connection age: closing an HTTP/1 connection')
    // Without the parser hook, settle() below still catches a response not yet started.
    closeNext(socket)
    if (config.grace !== null) setTimeout(destroyLate, config.grace, socket).unref()
    settle(socket, false)
  }

  /** Ends the connection once it is idle, or makes the response it is starting its last. */
  function settle (socket: Socket, waited: boolean): void {
    if (socket.destroyed || socket.writableEnded || !accepting()) return
    const res = currentResponse(socket)
    if (res) {
      if (!res.headersSent) return closeAfterResponse(res.req, res)
      // Started with keep-alive: look again once it is done.
      res.once('close', () => settle(socket, false))
      return
    }
    const since = msSinceActivity(socket, loopTime())
    if (since === null ? waited : since >= idleMs) {
      socket.destroy()
      return
    }
    setTimeout(settle, idleMs - (since ?? 0), socket, true).unref()
  }

  function destroyLate (socket: Socket): void {
    if (!socket.destroyed && accepting()) socket.destroy()
  }

  /** An HTTP/2 session past its age: the two-phase GOAWAY; its open streams finish (within `grace`). */
  function expireSession (session: Http2Session): void {
    timers.delete(session)
    if (!accepting() || session.closed || session.destroyed) return
    debug('connection age: GOAWAY to an HTTP/2 session')
    closeHttp2Session(session)
    if (config.grace !== null) {
      setTimeout(() => { if (!session.destroyed) session.destroy() }, config.grace).unref()
    }
  }

  return {
    /** An HTTP/1 connection was accepted (TLS: once secure). */
    http1: (socket: Socket): void => { arm(socket, expireHttp1) },
    /** An HTTP/2 session began. */
    session: (session: Http2Session): void => { arm(session, expireSession) },
    /** The socket left HTTP/1 (upgraded to a WebSocket): its age is no longer ours to enforce. */
    forget (socket: Socket): void {
      clearTimeout(timers.get(socket))
      timers.delete(socket)
      socket.off('close', onClose)
    },
    get size () { return timers.size },
  }
}

export type ConnectionAges = ReturnType<typeof createConnectionAges>
