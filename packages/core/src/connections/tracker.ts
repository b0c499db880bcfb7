import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { debuglog } from 'node:util'
import { createHttp1Connections } from './http1.js'
import { createHttp2Sessions } from './http2.js'
import { closeAfterResponse, describe, type InFlight } from './requests.js'
import { takeOverRequests } from './server-gate.js'
import type { AnyRequest, AnyResponse, CutRequest, Phase, Rejection } from '../types/lifecycle.js'
import { leaveIdleToKernel } from './leave-idle.js'
import { createUpgrades } from './upgrades.js'
import { createConnectionAges } from './connection-age.js'
import { isHttp2Server, isTlsServer } from './server-kind.js'
import type { ConnectionAge } from '../types/options.js'
import type { AttachableServer } from '../types/handle.js'

export type { InFlight } from './requests.js'

const debug = debuglog('graceful')

/** What the tracker needs from the rest of graceful. It knows its own phase. */
export interface TrackerEvents {
  /** Something was released: re-check whether the drain is complete. */
  changed: () => void
  settled: (entry: InFlight) => void
  listening: () => void
  /**
   * Served (with `Connection: close`) rather than answered with the draining 503: the one
   * decision (lifecycle/serve-or-503.ts), asked of every request that arrives after the trigger.
   */
  servedWhileDraining: (req: AnyRequest) => boolean
  rejectionFor: (req: AnyRequest) => Rejection
  /** From the trigger until the drain: a new connection (HTTP/2: session), for the quiet period. */
  arrived?: (key: object, onClose: (listener: () => void) => void) => void
  /** From the trigger until the drain: a new request on connection `key`, for the quiet period. */
  requested?: (key: object | null, req: AnyRequest) => void
  /** The `rejectedBodyLimit` option (http1.ts). */
  rejectedBodyLimit: number
}

const onceClosed = (emitter: NodeJS.EventEmitter) => (listener: () => void) => { emitter.once('close', listener) }

/** The connection a request came on: its socket, or its HTTP/2 session. */
function connectionOf (req: AnyRequest): object | null {
  return req.httpVersionMajor === 2 ? (req as Http2ServerRequest).stream?.session ?? null : req.socket
}

interface Attached {
  detach: () => void
  /** Gives the server its own request listeners back (set while the shutdown runs). */
  restore: (() => void) | null
  h2: boolean
}

/**
 * Tracks every attached server: HTTP/1 connections (`http1.ts`), HTTP/2
 * sessions and streams (`http2.ts`), upgraded sockets (`upgrades.ts`), and,
 * from the trigger on, the gate in front of each server's request listeners
 * (`server-gate.ts`). It goes through the lifecycle's phases (types/lifecycle.ts
 * `Phase`): `accepting` → `delay` (from the trigger: requests served with
 * `Connection: close`) → `drain` (listeners closed, idle connections ended).
 * Whether a request is served or answered 503 it never decides: it asks.
 */
export function createTracker (events: TrackerEvents, connectionAge: ConnectionAge | null = null) {
  const servers = new Map<AttachableServer, Attached>()
  const http1 = createHttp1Connections(events)
  const http2 = createHttp2Sessions(events)
  // `maxConnectionAge` (connection-age.ts): one timer per connection while accepting.
  const ages = connectionAge ? createConnectionAges(connectionAge, () => phase === 'accepting') : null
  const upgrades = createUpgrades(events.changed, (socket) => {
    ages?.forget(socket)
    http1.leave(socket)
  })
  // Raw TCP sockets of TLS servers: they never hold the drain, but are destroyed at the end.
  const raw = new Set<Socket>()
  let phase: Exclude<Phase, 'closed'> = 'accepting'
  let idleLeftToExit = false

  function onRawClose (this: Socket): void {
    raw.delete(this)
  }

  /** One request reaching an attached server after the trigger. */
  function admit (req: AnyRequest, res: AnyResponse): boolean {
    // Decided before tracking: tracking takes the connection out of its grace window.
    const served = events.servedWhileDraining(req)
    const entry = req.httpVersionMajor === 2
      ? http2.track(req as Http2ServerRequest, res as Http2ServerResponse)
      : http1.track(req as IncomingMessage, res as ServerResponse, Date.now())
    // Marks it as decided: an adapter's own gate further down lets it through.
    admitted.add(req)
    if (phase === 'delay') events.requested?.(connectionOf(req), req)
    if (!served) {
      debug('503 %s %s', req.method, req.url)
      if (entry.socket) http1.reject(entry, events.rejectionFor(req))
      else http2.reject(entry, events.rejectionFor(req))
      return false
    }
    closeAfterResponse(req, res)
    return true
  }
  const admitted = new WeakSet<AnyRequest>()

  function attach (server: AttachableServer): () => void {
    const existing = servers.get(server)
    if (existing) return existing.detach
    const h2 = isHttp2Server(server)
    const tls = isTlsServer(server)

    function onSocket (socket: Socket): void {
      // A cleartext HTTP/2 server speaks only HTTP/2: its sockets belong to sessions.
      if (h2 && !tls) return http2.addSocket(socket)
      if ((socket as TLSSocket).alpnProtocol === 'h2') return
      // One comparison per connection; what the quiet period watches, after the trigger only.
      if (phase === 'delay') events.arrived?.(socket, onceClosed(socket))
      ages?.http1(socket)
      http1.add(socket)
    }
    function onSession (session: Http2Session): void {
      if (phase === 'delay') events.arrived?.(session, onceClosed(session))
      ages?.session(session)
      http2.addSession(session)
    }
    function onRaw (socket: Socket): void {
      raw.add(socket)
      socket.on('close', onRawClose)
    }
    // HTTP/2 streams are tracked from their arrival (see http2.ts).
    function trackStream (req: AnyRequest, res: AnyResponse): void {
      if (req.httpVersionMajor === 2) http2.track(req as Http2ServerRequest, res as Http2ServerResponse)
    }
    // Listening to 'upgrade' changes what Node does with upgrade requests, so
    // track them only once the application itself handles upgrades.
    let upgradeTracked = false
    function trackUpgrades (): void {
      if (upgradeTracked) return
      upgradeTracked = true
      server.prependListener('upgrade', upgrades.onUpgrade)
    }
    function onNewListener (event: string | symbol): void {
      if (event === 'upgrade') trackUpgrades()
    }

    server.on(tls ? 'secureConnection' : 'connection', onSocket)
    if (tls) server.on('connection', onRaw)
    if (h2) {
      server.on('session', onSession)
      server.prependListener('request', trackStream)
    }
    // node:http without `socket._httpMessage` (a future Node): track requests while accepting.
    if (http1.fallback && !(h2 && !tls)) server.prependListener('request', http1.trackEarly as never)
    if (server.listenerCount('upgrade') > 0) trackUpgrades()
    else server.on('newListener', onNewListener)
    server.on('listening', events.listening)

    const attached: Attached = { h2, restore: null, detach }
    function detach (): void {
      server.off(tls ? 'secureConnection' : 'connection', onSocket)
      server.off('connection', onRaw)
      server.off('session', onSession)
      server.off('request', trackStream)
      server.off('request', http1.trackEarly as never)
      server.off('upgrade', upgrades.onUpgrade)
      server.off('newListener', onNewListener)
      server.off('listening', events.listening)
      attached.restore?.()
      servers.delete(server)
    }
    servers.set(server, attached)
    if (phase !== 'accepting') takeOver(server, attached)
    return detach
  }

  function takeOver (server: AttachableServer, attached: Attached): void {
    attached.restore ??= takeOverRequests(server, admit, (listener) => listener.name === 'trackStream' || listener === (http1.trackEarly as unknown as typeof listener))
  }

  /**
   * The trigger: gate every server, ask what is in flight to close its
   * connection after its response. `drainFollows`: `startDrain()` is called
   * in this same turn (see http1.ts).
   */
  function startDelay (drainFollows = false): void {
    if (phase !== 'accepting') return
    phase = 'delay'
    for (const [server, attached] of servers) takeOver(server, attached)
    http1.startDelay(drainFollows)
    http2.startDelay()
  }

  /**
   * Stop accepting, end idle connections (unless left to the exit:
   * `leaveIdleToExit()`), GOAWAY to sessions.
   */
  function startDrain (): Promise<void> {
    startDelay()
    phase = 'drain'
    // net.Server's close stops listening and nothing else: node:http's own close
    // (Node ≥ 19) also destroys every idle connection at once, the ones being
    // reused this very moment included. Idle connections are ours to end.
    const closed = [...servers.keys()].map((server) => new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      NetServer.prototype.close.call(server, () => resolve())
    }))
    http1.startDrain()
    http2.startDrain()
    debug('drain started: %d sockets, %d sessions, %d in flight', http1.size, http2.sessions, inFlight())
    return Promise.all(closed).then(() => undefined)
  }

  function destroyRest (keepIdle: boolean): void {
    http1.destroyAll(keepIdle)
    if (keepIdle) for (const server of servers.keys()) leaveIdleToKernel(server)
    for (const socket of raw) socket.destroy()
    upgrades.destroyAll()
    http2.destroyAll()
  }

  function inFlight (): number {
    return http1.inFlight() + http2.inFlight
  }

  function entries (): InFlight[] {
    return [...http1.entries(), ...http2.entries()]
  }

  return {
    attach,
    startDelay,
    startDrain,
    /** The deadline: 503 for what has not started, destroy the rest. */
    cut (rejection: Rejection): CutRequest[] {
      const now = Date.now()
      const cut = [...http1.cut(rejection, now), ...http2.cut(rejection, now)]
      upgrades.destroyAll()
      return cut
    },
    /** Skip ahead (force): destroy every connection, those left to the exit included. */
    destroyAll: (): void => { destroyRest(false) },
    /** The drain is over: destroy what is left, except the connections left to the exit. */
    endDrain: (): void => { destroyRest(idleLeftToExit) },
    /**
     * The exit closes the idle connections (lifecycle.ts `exitClosesIdle()`
     * decided it): from now on HTTP/1 connections with nothing in flight are
     * left to it, neither ended at the drain start nor destroyed at its end,
     * and a framework's own close of an attached server returns at once
     * (leave-idle.ts). Returns what ends them after all, when the exit turns
     * out not to be immediate.
     */
    leaveIdleToExit (): () => void {
      idleLeftToExit = true
      http1.leaveIdleToExit()
      return http1.endIdle
    },
    /** What still holds the drain, for the log and the summary. */
    holding (now = Date.now()): string[] {
      const held = entries().map((entry) => describe(entry, now))
      if (http2.sessions > 0) held.push(`${http2.sessions} HTTP/2 session(s)`)
      if (upgrades.size > 0) held.push(`${upgrades.size} upgraded socket(s) (WebSocket?)`)
      if (http1.reusing > 0) held.push(`${http1.reusing} keep-alive socket(s) in their reuse window`)
      if (http1.discarding > 0) held.push(`${http1.discarding} socket(s) discarding a body after its 503`)
      return held
    },
    entries,
    /**
     * Whether a request reached the server in the grace window, sent before
     * its client could know of the drain: on an HTTP/1 connection idle at the
     * drain start and reused within the window (or accepted since), or on an
     * HTTP/2 stream that arrived during the drain (nghttp2 itself refuses the
     * ones opened after its final GOAWAY).
     */
    inGraceWindow: (req: AnyRequest) => req.httpVersionMajor === 2
      ? http2.inGraceWindow(req as Http2ServerRequest)
      : http1.inGraceWindow(req.socket as Socket),
    /** True when the gate of an attached server decided this request already (it arrived after the trigger). */
    admitted: (req: AnyRequest) => admitted.has(req),
    /** The tracked entry of a request in flight, if an attached server saw it. */
    find (req: AnyRequest, res: AnyResponse): InFlight | undefined {
      return req.httpVersionMajor === 2 ? http2.find(res as Http2ServerResponse) : http1.find(req as IncomingMessage, res as ServerResponse)
    },
    get inFlight () { return inFlight() },
    get busy () { return http1.busy || http2.inFlight > 0 || http2.sessions > 0 || upgrades.size > 0 },
    get listening () { return servers.size > 0 && [...servers.keys()].every((s) => s.listening) },
    get attached () { return servers.size },
    get anyListening () { return [...servers.keys()].some((s) => s.listening) },
    counts: () => ({ inFlight: inFlight(), sockets: http1.size, sessions: http2.sessions, upgraded: upgrades.size }),
  }
}

export type Tracker = ReturnType<typeof createTracker>
