import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import type { Http2Session } from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import { Server as TlsServer, type TLSSocket } from 'node:tls'
import { debuglog } from 'node:util'
import { closeHttp2Session } from './http2-goaway.js'
import { closeAfterResponse, cutRequest, describe } from './requests.js'
import type { AnyRequest, AnyResponse, CutRequest, Rejection } from './types.js'

const debug = debuglog('graceful')
// A connection whose last response ended this recently may be reusing itself
// right now: its next request is likely on the wire. It gets this long to
// arrive (and be answered with the draining 503) before the FIN, instead of
// meeting a closed socket: the keep-alive race every HTTP/1.1 server has.
const reuseGraceMs = 50
// node:http publishes this for every finished response: cheaper per request
// than a listener on each response. Aborted responses are settled when their
// socket closes. https://nodejs.org/api/diagnostics_channel.html#http
const responseFinish = 'http.server.response.finish'

/** Any server a user can attach: node:http, node:https, node:http2 (plain or secure). */
export type AttachableServer = NetServer

/** One request the tracker is waiting for. */
export interface InFlight {
  req: AnyRequest
  res: AnyResponse
  /** The HTTP/1 socket, or null for an HTTP/2 stream. */
  socket: Socket | null
  start: number
  rejected: boolean
  cut: boolean
}

/**
 * What the tracker needs from the state machine. Kept as callbacks so the
 * tracker knows nothing of states or timers.
 */
export interface TrackerEvents {
  /** `'accepting'`, `'delay'` (serving with Connection: close) or `'drain'`. */
  phase: () => 'accepting' | 'delay' | 'drain'
  /** Something was released: re-check whether the drain is complete. */
  changed: () => void
  settled: (entry: InFlight) => void
  listening: () => void
}

/** An HTTP/1 connection: its requests in flight, and when its last response ended. */
interface Connection {
  requests: InFlight[]
  lastDone: number
}

/** Tracks connections, requests, HTTP/2 sessions and upgraded sockets of every attached server. */
export function createTracker (events: TrackerEvents) {
  const servers = new Map<AttachableServer, () => void>()
  // Idle means no request in flight: a socket that has not yet delivered a
  // complete request head is idle too (slowloris).
  const sockets = new Map<Socket, Connection>()
  // Idle sockets in their reuse window at the drain start (see reuseGraceMs).
  const reusing = new Set<Socket>()
  let reuseTimer: NodeJS.Timeout | undefined
  let subscribed = false
  // Raw TCP sockets of TLS servers: they never hold the drain, but are destroyed at the end.
  const raw = new Set<Socket>()
  const sessions = new Set<Http2Session>()
  const upgraded = new Set<Socket>()
  // HTTP/2 streams in flight. HTTP/1 requests live in their connection's list:
  // no per-request map entry on the hot path.
  const streams = new Map<AnyResponse, InFlight>()
  let inFlightCount = 0

  /** Every request in flight, HTTP/1 and HTTP/2. Off the hot path only. */
  function entries (): InFlight[] {
    const all: InFlight[] = []
    for (const connection of sockets.values()) all.push(...connection.requests)
    all.push(...streams.values())
    return all
  }

  /** The tracked entry of a request, if an attached server saw it. */
  function find (req: AnyRequest, res: AnyResponse): InFlight | undefined {
    if (req.httpVersionMajor === 2) return streams.get(res)
    return sockets.get((req as IncomingMessage).socket)?.requests.find((entry) => entry.res === res)
  }

  function attach (server: AttachableServer): () => void {
    const existing = servers.get(server)
    if (existing) return existing
    const h2 = isHttp2Server(server)
    const tls = server instanceof TlsServer

    const onSocket = (socket: Socket) => {
      // A plain HTTP/2 server speaks only HTTP/2: its sockets belong to sessions.
      if (h2 && !tls) return
      if ((socket as TLSSocket).alpnProtocol === 'h2') return
      const connection: Connection = { requests: [], lastDone: 0 }
      sockets.set(socket, connection)
      socket.once('close', () => {
        // Requests still open on a closed socket were aborted (or queued behind a closing response).
        for (const entry of [...connection.requests]) settle(entry)
        sockets.delete(socket)
        reusing.delete(socket)
        events.changed()
      })
      // Accepted before the listener closed, arriving after: it is idle, end it now.
      if (events.phase() === 'drain') endIdle(socket)
    }
    const onRaw = (socket: Socket) => {
      raw.add(socket)
      socket.once('close', () => raw.delete(socket))
    }
    const onSession = (session: Http2Session) => {
      sessions.add(session)
      session.once('close', () => {
        sessions.delete(session)
        events.changed()
      })
      if (events.phase() === 'drain') closeHttp2Session(session)
    }
    const onRequest = (req: AnyRequest, res: AnyResponse) => {
      if (req.httpVersionMajor === 2) {
        const entry: InFlight = { req, res, socket: null, start: Date.now(), rejected: false, cut: false }
        streams.set(res, entry)
        inFlightCount++
        res.once('close', () => settle(entry))
        return
      }
      const socket = (req as IncomingMessage).socket
      let connection = sockets.get(socket)
      if (!connection) {
        onSocket(socket)
        connection = sockets.get(socket) ?? { requests: [], lastDone: 0 }
      }
      connection.requests.push({ req, res, socket, start: Date.now(), rejected: false, cut: false })
      inFlightCount++
    }
    const onUpgrade = (_req: IncomingMessage, socket: Socket) => {
      sockets.delete(socket)
      upgraded.add(socket)
      socket.once('close', () => {
        upgraded.delete(socket)
        events.changed()
      })
    }
    // Listening to 'upgrade' changes what Node does with upgrade requests, so
    // track them only once the application itself handles upgrades.
    let upgradeTracked = false
    const trackUpgrades = () => {
      if (upgradeTracked) return
      upgradeTracked = true
      server.prependListener('upgrade', onUpgrade)
    }
    const onNewListener = (event: string | symbol) => {
      if (event === 'upgrade') trackUpgrades()
    }

    server.on(tls ? 'secureConnection' : 'connection', onSocket)
    if (tls) server.on('connection', onRaw)
    if (h2) server.on('session', onSession)
    // First, so the request is counted before any framework code runs.
    server.prependListener('request', onRequest)
    if (server.listenerCount('upgrade') > 0) trackUpgrades()
    else server.on('newListener', onNewListener)
    server.on('listening', events.listening)
    if (!h2 || tls) subscribeFinish()

    const detach = () => {
      server.off(tls ? 'secureConnection' : 'connection', onSocket)
      server.off('connection', onRaw)
      server.off('session', onSession)
      server.off('request', onRequest)
      server.off('upgrade', onUpgrade)
      server.off('newListener', onNewListener)
      server.off('listening', events.listening)
      servers.delete(server)
      if (servers.size === 0) unsubscribeFinish()
    }
    servers.set(server, detach)
    return detach
  }

  function onFinish (message: unknown): void {
    const { response, socket } = message as { response: AnyResponse, socket: Socket }
    const requests = sockets.get(socket)?.requests
    if (!requests) return
    // Usually one entry; a few with pipelining.
    for (const entry of requests) {
      if (entry.res === response) return settle(entry)
    }
  }
  function subscribeFinish (): void {
    if (subscribed) return
    subscribed = true
    subscribe(responseFinish, onFinish)
  }
  function unsubscribeFinish (): void {
    if (!subscribed) return
    subscribed = false
    unsubscribe(responseFinish, onFinish)
  }

  function settle (entry: InFlight): void {
    if (entry.socket) {
      const connection = sockets.get(entry.socket)
      const index = connection ? connection.requests.indexOf(entry) : -1
      if (!connection || index === -1) return
      connection.requests.splice(index, 1)
      connection.lastDone = Date.now()
      // Idle from now on: never wait for keepAliveTimeout while draining.
      if (connection.requests.length === 0 && events.phase() === 'drain') endIdle(entry.socket)
    } else if (!streams.delete(entry.res)) {
      return
    }
    inFlightCount--
    events.settled(entry)
    events.changed()
  }

  /** Close now: with nothing unread on an idle socket, the kernel sends a FIN. */
  function endIdle (socket: Socket): void {
    reusing.delete(socket)
    if (!socket.destroyed) socket.destroy()
  }

  /** Stop accepting, end idle connections, ask the busy ones to close after their response. */
  function startDrain (): Promise<void> {
    // net.Server's close stops listening and nothing else: node:http's own close
    // (Node ≥ 19) also destroys every idle connection at once, the ones being
    // reused this very moment included. Idle connections are ours to end.
    const closed = [...servers.keys()].map((server) => new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      NetServer.prototype.close.call(server, () => resolve())
    }))
    const now = Date.now()
    for (const [socket, connection] of sockets) {
      if (connection.requests.length > 0) continue
      if (now - connection.lastDone < reuseGraceMs) reusing.add(socket)
      else endIdle(socket)
    }
    if (reusing.size > 0) {
      reuseTimer = setTimeout(() => {
        for (const socket of reusing) endIdle(socket)
        events.changed()
      }, reuseGraceMs)
    }
    for (const entry of entries()) closeAfterResponse(entry)
    for (const session of sessions) closeHttp2Session(session)
    debug('drain started: %d sockets, %d sessions, %d in flight', sockets.size, sessions.size, inFlightCount)
    return Promise.all(closed).then(() => undefined)
  }

  /** The deadline: 503 for what has not started, destroy the rest. */
  function cut (rejection: Rejection): CutRequest[] {
    const now = Date.now()
    const cutRequests = entries().filter((entry) => !entry.cut).map((entry) => cutRequest(entry, rejection, now))
    for (const socket of upgraded) socket.destroy()
    return cutRequests
  }

  /** Whatever is left: idle sockets that did not close, half-done handshakes, sessions. */
  function destroyAll (): void {
    clearTimeout(reuseTimer)
    reusing.clear()
    for (const socket of sockets.keys()) socket.destroy()
    for (const socket of raw) socket.destroy()
    for (const socket of upgraded) socket.destroy()
    for (const session of sessions) session.destroy()
    unsubscribeFinish()
  }

  /** What still holds the drain, for the log and the summary. */
  function holding (now = Date.now()): string[] {
    const held: string[] = []
    for (const entry of entries()) held.push(describe(entry, now))
    if (sessions.size > 0) held.push(`${sessions.size} HTTP/2 session(s)`)
    if (upgraded.size > 0) held.push(`${upgraded.size} upgraded socket(s) (WebSocket?)`)
    if (reusing.size > 0) held.push(`${reusing.size} keep-alive socket(s) in their reuse window`)
    return held
  }

  return {
    attach,
    startDrain,
    closeAfterResponse,
    cut,
    destroyAll,
    holding,
    entries,
    find,
    get inFlight () { return inFlightCount },
    get busy () { return inFlightCount > 0 || sessions.size > 0 || upgraded.size > 0 || reusing.size > 0 },
    get listening () { return servers.size > 0 && [...servers.keys()].every((s) => s.listening) },
    get attached () { return servers.size },
    get anyListening () { return [...servers.keys()].some((s) => s.listening) },
    counts: () => ({ inFlight: inFlightCount, sockets: sockets.size, sessions: sessions.size, upgraded: upgraded.size }),
  }
}

export type Tracker = ReturnType<typeof createTracker>

function isHttp2Server (server: object): boolean {
  for (let proto = Object.getPrototypeOf(server); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name
    if (name === 'Http2Server' || name === 'Http2SecureServer') return true
  }
  return false
}
