import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { canReadCurrentResponse, currentResponse, loopTime, msSinceActivity } from '../support/node-internals.js'
import { closeAfterResponse, cutRequest, type InFlight } from './requests.js'
import { writeAnswer } from '../answers/answer.js'
import type { CutRequest, Rejection } from '../types/lifecycle.js'

// A connection whose last activity was this recent may be reusing itself right
// now: its next request is likely on the wire, sent before the client could
// know of the drain. It gets this long to arrive (and be served, with
// `Connection: close`) before the FIN, instead of meeting a closed socket: the
// keep-alive race every HTTP/1.1 server has. A connection just accepted, whose
// request head has not arrived, gets the same grace.
const reuseGraceMs = 50

const none: readonly ServerResponse[] = []

/** The idle connections at the drain start, sorted by `sortIdle`. */
interface DrainPlan {
  now: number | null
  recent: Socket[]
  idle: Socket[]
}

export interface Http1Events {
  /** Something was released: re-check whether the drain is complete. */
  changed: () => void
  settled: (entry: InFlight) => void
  /** The `rejectedBodyLimit` option: the most bytes of a body read and discarded after its 503. */
  rejectedBodyLimit: number
}

/**
 * HTTP/1 connections of every attached server (TLS ones once their handshake
 * is done). While accepting, one `Set` entry per connection and nothing per
 * request. From the trigger on, in-flight requests are discovered from
 * node:http (each connection's current response) and every request and
 * response is tracked precisely.
 */
export function createHttp1Connections (events: Http1Events) {
  const sockets = new Set<Socket>()
  // Without `socket._httpMessage` (a future Node), requests are tracked while accepting too.
  const fallback = !canReadCurrentResponse()
  const fallbackResponses = new Map<Socket, Set<ServerResponse>>()
  // From the trigger on: the requests in flight on each connection.
  const inFlight = new Map<Socket, InFlight[]>()
  const known = new WeakSet<object>()
  // Idle sockets in their grace window (see reuseGraceMs).
  const reusing = new Set<Socket>()
  // Sockets reading the rest of a body after its 503 (see reject()).
  const discarding = new Set<Socket>()
  let reuseTimer: NodeJS.Timeout | undefined
  // Sorted at the trigger when the drain follows in the same turn.
  let drainPlan: DrainPlan | null = null
  let tracking = false
  let drainStarted = false
  // The exit closes the idle connections (tracker.ts leaveIdleToExit()).
  let idleLeftToExit = false
  let count = 0

  function onSocketClose (this: Socket): void {
    sockets.delete(this)
    if (fallback) fallbackResponses.delete(this)
    if (!tracking) return
    // Requests still open on a closed socket were aborted (or queued behind a closing response).
    const open = inFlight.get(this)
    if (open) for (const entry of [...open]) settle(entry)
    inFlight.delete(this)
    reusing.delete(this)
    discarding.delete(this)
    events.changed()
  }

  /** A new connection (TLS: once secure). The only work graceful does per connection while accepting. */
  function add (socket: Socket): void {
    sockets.add(socket)
    socket.on('close', onSocketClose)
    // Accepted before the listener closed, arriving after: its request gets the grace a reused connection gets.
    if (drainStarted) grace(socket)
  }

  /** The fallback when node:http's current response cannot be read: remember responses per connection. */
  function trackEarly (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    let responses = fallbackResponses.get(socket)
    if (!responses) fallbackResponses.set(socket, responses = new Set())
    responses.add(res)
    res.once('close', () => responses.delete(res))
  }

  /** Responses in flight on a socket that graceful does not track yet. */
  function untracked (socket: Socket): readonly ServerResponse[] {
    if (fallback) return [...fallbackResponses.get(socket) ?? []].filter((res) => !known.has(res))
    const res = currentResponse(socket)
    return res && !known.has(res) && !res.writableFinished ? [res] : none
  }

  /** Tracks a request from now on: `start` is null when it was in flight before the trigger (its age is unknown). */
  function track (req: IncomingMessage, res: ServerResponse, start: number | null): InFlight {
    const socket = req.socket
    const entry: InFlight = { req, res, socket, start, seen: start ?? Date.now(), rejected: false, cut: false }
    known.add(res)
    let list = inFlight.get(socket)
    if (!list) inFlight.set(socket, list = [])
    list.push(entry)
    count++
    reusing.delete(socket)
    res.once('close', () => settle(entry))
    return entry
  }

  /** Finds what a connection is serving now (the trigger, off the hot path); false when nothing new. */
  function discover (socket: Socket): boolean {
    const found = untracked(socket)
    for (const res of found) {
      track(res.req, res, null)
      closeAfterResponse(res.req, res)
    }
    return found.length > 0
  }

  function settle (entry: InFlight): void {
    const socket = entry.socket as Socket
    const list = inFlight.get(socket)
    const index = list ? list.indexOf(entry) : -1
    if (!list || index === -1) return
    list.splice(index, 1)
    count--
    events.settled(entry)
    if (list.length === 0) inFlight.delete(socket)
    // node:http has already moved on to the next pipelined response, if any.
    if (!socket.destroyed) discover(socket)
    // Idle from now on: never wait for keepAliveTimeout once the drain started.
    if (drainStarted && !inFlight.has(socket)) endIdle(socket)
    events.changed()
  }

  /** Close now: with nothing unread on an idle socket, the kernel sends a FIN. */
  function endIdle (socket: Socket): void {
    reusing.delete(socket)
    if (discarding.has(socket) || socket.destroyed || socket.writableEnded) return
    socket.destroy()
  }

  /** An idle connection at the drain start: in its reuse window (or not known to be past it), or idle long enough to end. */
  function sortIdle (socket: Socket, plan: DrainPlan): void {
    const since = msSinceActivity(socket, plan.now)
    // Unknown: never answered (just accepted, or a slow head), or no keep-alive timer to read.
    if (since === null || since < reuseGraceMs) plan.recent.push(socket)
    else plan.idle.push(socket)
  }

  function grace (socket: Socket): void {
    reusing.add(socket)
    reuseTimer ??= setTimeout(endGraced, reuseGraceMs)
  }

  function endGraced (): void {
    reuseTimer = undefined
    for (const socket of reusing) if (!inFlight.has(socket)) endIdle(socket)
    reusing.clear()
    events.changed()
  }

  /**
   * The 503 on a tracked request. A client still uploading its body reads the
   * 503, then the rest of its body is read and discarded before the socket
   * closes: node:http would destroy it with bytes unread, which the client
   * sees as a reset instead of the 503. Go's http.Server stops at 256 KiB;
   * a client that writes its whole body before reading (Python's requests)
   * then never reads the 503. So the discard goes on while the client sends,
   * up to `rejectedBodyLimit` bytes, and until the drain deadline at most
   * (a discarding socket holds the drain; the deadline destroys it).
   */
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
      discardEnd = this.bytesRead + events.rejectedBodyLimit
      this.end()
      // node:http resumed the request (`req._dump()`): its body flows to nowhere until it ends.
      req.once('end', () => stopDiscarding(this))
    }
  }

  function stopDiscarding (socket: Socket): void {
    if (!discarding.delete(socket)) return
    socket.destroy()
    events.changed()
  }

  return {
    add,
    trackEarly,
    fallback,
    track,
    reject,
    /**
     * The trigger: from now on every request is tracked; responses in flight
     * will carry `Connection: close`. `drainFollows`: the drain starts in this
     * same turn (no readiness delay), so the one walk over the connections
     * also sorts the idle ones for it.
     */
    startDelay (drainFollows: boolean): void {
      if (tracking) return
      tracking = true
      const plan: DrainPlan | null = drainFollows ? { now: loopTime(), recent: [], idle: [] } : null
      // Nothing was tracked before: a connection is idle unless discover() found its response.
      for (const socket of sockets) if (!discover(socket) && plan) sortIdle(socket, plan)
      drainPlan = plan
    },
    /**
     * The drain: idle connections end now, or after their grace window when
     * they were active a moment ago or have not sent their request yet. Left
     * to the exit, idle connections that need no grace are left to the
     * kernel, which sends their FIN at exit.
     */
    startDrain (): void {
      drainStarted = true
      let plan = drainPlan
      drainPlan = null
      if (!plan) {
        plan = { now: loopTime(), recent: [], idle: [] }
        for (const socket of sockets) if (!inFlight.has(socket)) sortIdle(socket, plan)
      }
      for (const socket of plan.recent) grace(socket)
      if (!idleLeftToExit) for (const socket of plan.idle) endIdle(socket)
    },
    /** The deadline: a 503 for every response not started, destroy the others. */
    cut (rejection: Rejection, now: number): CutRequest[] {
      const cut: CutRequest[] = []
      for (const list of inFlight.values()) {
        for (const entry of list) {
          if (entry.cut) continue
          cut.push(cutRequest(entry, now, () => reject(entry, rejection)))
        }
      }
      return cut
    },
    /**
     * Whatever is left. `keepIdle`: the process exits next, and connections
     * with nothing in flight (idle, or closing after their last response) are
     * left for the exit to close; only busy and discarding ones are destroyed.
     */
    destroyAll (keepIdle: boolean): void {
      clearTimeout(reuseTimer)
      reuseTimer = undefined
      reusing.clear()
      // Nothing busy: no need to walk every connection to skip it.
      if (keepIdle && count === 0 && discarding.size === 0) return
      for (const socket of sockets) {
        if (keepIdle && !inFlight.has(socket) && !discarding.has(socket)) continue
        socket.destroy()
      }
    },
    /** From now on, connections with nothing in flight are left for the exit to close. */
    leaveIdleToExit (): void {
      idleLeftToExit = true
    },
    /** Ends every connection with nothing in flight (those left for the exit): the exit is not immediate after all. */
    endIdle (): void {
      for (const socket of sockets) if (!inFlight.has(socket)) endIdle(socket)
    },
    entries (): InFlight[] {
      const all: InFlight[] = []
      for (const list of inFlight.values()) all.push(...list)
      return all
    },
    /** Requests in flight: counted exactly once tracking started, else read from node:http. */
    inFlight (): number {
      if (tracking) return count
      let n = 0
      for (const socket of sockets) n += untracked(socket).length
      return n
    },
    /** The connection is in its grace window: idle at the drain start (or accepted since), its request not yet arrived. */
    inGraceWindow: (socket: Socket) => reusing.has(socket),
    find: (req: IncomingMessage, res: ServerResponse) => inFlight.get(req.socket)?.find((entry) => entry.res === res),
    /** The socket was upgraded (WebSocket): no longer HTTP/1's. */
    leave (socket: Socket): void {
      sockets.delete(socket)
      socket.off('close', onSocketClose)
      inFlight.delete(socket)
      reusing.delete(socket)
    },
    get busy () { return count > 0 || reusing.size > 0 || discarding.size > 0 },
    get size () { return sockets.size },
    get reusing () { return reusing.size },
    get discarding () { return discarding.size },
  }
}

export type Http1Connections = ReturnType<typeof createHttp1Connections>
