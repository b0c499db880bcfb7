import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { closeAfterResponse, cutRequest, type InFlight } from './requests.js'
import { createBodyDiscard } from './http1-discard.js'
import { createResponseDiscovery } from './http1-discovery.js'
import { createReuseWindow, newDrainPlan, sortIdle, type DrainPlan } from './http1-reuse.js'
import type { CutRequest, Rejection } from '../types/lifecycle.js'

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
  // What each connection serves at the trigger (http1-discovery.ts).
  const discovery = createResponseDiscovery()
  // From the trigger on: the requests in flight on each connection.
  const inFlight = new Map<Socket, InFlight[]>()
  // Idle sockets in their grace window (http1-reuse.ts): still idle when it ends, they end.
  const reusing = createReuseWindow((socket) => { if (!inFlight.has(socket)) endIdle(socket) }, events.changed)
  // Sockets reading the rest of a body after its 503 (http1-discard.ts).
  const discarding = createBodyDiscard(events.rejectedBodyLimit, events.changed)
  // Sorted at the trigger when the drain follows in the same turn.
  let drainPlan: DrainPlan | null = null
  let tracking = false
  let drainStarted = false
  // The exit closes the idle connections (tracker.ts leaveIdleToExit()).
  let idleLeftToExit = false
  let count = 0

  function onSocketClose (this: Socket): void {
    sockets.delete(this)
    discovery.forget(this)
    if (!tracking) return
    // Requests still open on a closed socket were aborted (or queued behind a closing response).
    const open = inFlight.get(this)
    if (open) for (const entry of [...open]) settle(entry)
    inFlight.delete(this)
    reusing.leave(this)
    discarding.forget(this)
    events.changed()
  }

  /** A new connection (TLS: once secure). The only work graceful does per connection while accepting. */
  function add (socket: Socket): void {
    sockets.add(socket)
    socket.on('close', onSocketClose)
    // Accepted before the listener closed, arriving after: its request gets the grace a reused connection gets.
    if (drainStarted) reusing.grace(socket)
  }

  /** Tracks a request from now on: `start` is null when it was in flight before the trigger (its age is unknown). */
  function track (req: IncomingMessage, res: ServerResponse, start: number | null): InFlight {
    const socket = req.socket
    const entry: InFlight = { req, res, socket, start, seen: start ?? Date.now(), rejected: false, cut: false }
    discovery.tracked(res)
    let list = inFlight.get(socket)
    if (!list) inFlight.set(socket, list = [])
    list.push(entry)
    count++
    reusing.leave(socket)
    res.once('close', () => settle(entry))
    return entry
  }

  /** Finds what a connection is serving now (the trigger, off the hot path); false when nothing new. */
  function discover (socket: Socket): boolean {
    const found = discovery.untracked(socket)
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
    reusing.leave(socket)
    if (discarding.has(socket) || socket.destroyed || socket.writableEnded) return
    socket.destroy()
  }

  return {
    add,
    /** node:http without `socket._httpMessage` (a future Node): this `'request'` listener tracks requests while accepting. */
    trackEarly: discovery.trackEarly,
    fallback: discovery.fallback,
    track,
    reject: discarding.reject,
    /**
     * The trigger: from now on every request is tracked; responses in flight
     * will carry `Connection: close`. `drainFollows`: the drain starts in this
     * same turn (no readiness delay), so the one walk over the connections
     * also sorts the idle ones for it.
     */
    startDelay (drainFollows: boolean): void {
      if (tracking) return
      tracking = true
      const plan: DrainPlan | null = drainFollows ? newDrainPlan() : null
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
        plan = newDrainPlan()
        for (const socket of sockets) if (!inFlight.has(socket)) sortIdle(socket, plan)
      }
      for (const socket of plan.recent) reusing.grace(socket)
      if (!idleLeftToExit) for (const socket of plan.idle) endIdle(socket)
    },
    /** The deadline: a 503 for every response not started, destroy the others. */
    cut (rejection: Rejection, now: number): CutRequest[] {
      const cut: CutRequest[] = []
      for (const list of inFlight.values()) {
        for (const entry of list) {
          if (entry.cut) continue
          cut.push(cutRequest(entry, now, () => discarding.reject(entry, rejection)))
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
      for (const socket of sockets) n += discovery.untracked(socket).length
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
      reusing.leave(socket)
    },
    get busy () { return count > 0 || reusing.size > 0 || discarding.size > 0 },
    get size () { return sockets.size },
    get reusing () { return reusing.size },
    get discarding () { return discarding.size },
  }
}

export type Http1Connections = ReturnType<typeof createHttp1Connections>
