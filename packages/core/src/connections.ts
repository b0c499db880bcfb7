import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest, Http2Session } from 'node:http2'
import type { Server as NetServer, Socket } from 'node:net'
import { Server as TlsServer, type TLSSocket } from 'node:tls'
import { debuglog } from 'node:util'
import { writeRejection } from './rejection.js'
import type { AnyRequest, AnyResponse, CutRequest, Rejection } from './types.js'

const debug = debuglog('graceful')

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

/** Tracks connections, requests, HTTP/2 sessions and upgraded sockets of every attached server. */
export function createTracker (events: TrackerEvents) {
  const servers = new Map<AttachableServer, () => void>()
  // HTTP/1 sockets -> in-flight request count. Idle means 0: a socket that has
  // not yet delivered a complete request head is idle too (slowloris).
  const sockets = new Map<Socket, number>()
  // Raw TCP sockets of TLS servers: they never hold the drain, but are destroyed at the end.
  const raw = new Set<Socket>()
  const sessions = new Set<Http2Session>()
  const upgraded = new Set<Socket>()
  const inFlight = new Map<AnyResponse, InFlight>()

  function attach (server: AttachableServer): () => void {
    const existing = servers.get(server)
    if (existing) return existing
    const h2 = isHttp2Server(server)
    const tls = server instanceof TlsServer

    const onSocket = (socket: Socket) => {
      // A plain HTTP/2 server speaks only HTTP/2: its sockets belong to sessions.
      if (h2 && !tls) return
      if ((socket as TLSSocket).alpnProtocol === 'h2') return
      sockets.set(socket, 0)
      socket.once('close', () => {
        sockets.delete(socket)
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
      if (events.phase() === 'drain') session.close()
    }
    const onRequest = (req: AnyRequest, res: AnyResponse) => {
      const socket = req.httpVersionMajor === 2 ? null : (req as IncomingMessage).socket
      if (socket && !sockets.has(socket)) onSocket(socket)
      const entry: InFlight = { req, res, socket, start: Date.now(), rejected: false, cut: false }
      inFlight.set(res, entry)
      if (socket) sockets.set(socket, (sockets.get(socket) ?? 0) + 1)
      res.once('close', () => settle(entry))
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

    const detach = () => {
      server.off(tls ? 'secureConnection' : 'connection', onSocket)
      server.off('connection', onRaw)
      server.off('session', onSession)
      server.off('request', onRequest)
      server.off('upgrade', onUpgrade)
      server.off('newListener', onNewListener)
      server.off('listening', events.listening)
      servers.delete(server)
    }
    servers.set(server, detach)
    return detach
  }

  function settle (entry: InFlight): void {
    inFlight.delete(entry.res)
    const { socket } = entry
    if (socket && sockets.has(socket)) {
      const left = (sockets.get(socket) ?? 1) - 1
      sockets.set(socket, left)
      // Idle from now on: never wait for keepAliveTimeout while draining.
      if (left === 0 && events.phase() === 'drain') endIdle(socket)
    }
    events.settled(entry)
    events.changed()
  }

  /** FIN now, and release the descriptor once it is written. */
  function endIdle (socket: Socket): void {
    if (!socket.destroyed) socket.destroySoon()
  }

  /** Responses not yet started will carry `Connection: close` (HTTP/1) or end their session with GOAWAY (HTTP/2). */
  function closeAfterResponse (entry: InFlight): void {
    if (entry.socket) {
      if (!entry.res.headersSent) entry.res.setHeader('connection', 'close')
    } else {
      const session = (entry.req as Http2ServerRequest).stream?.session
      // close() sends GOAWAY and lets the open streams finish.
      if (session && !session.closed) session.close()
    }
  }

  /** Stop accepting, end idle connections, ask the busy ones to close after their response. */
  function startDrain (): Promise<void> {
    const closed = [...servers.keys()].map((server) => new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      server.close(() => resolve())
    }))
    for (const [socket, requests] of sockets) {
      if (requests === 0) endIdle(socket)
    }
    for (const entry of inFlight.values()) closeAfterResponse(entry)
    for (const session of sessions) if (!session.closed) session.close()
    debug('drain started: %d sockets, %d sessions, %d in flight', sockets.size, sessions.size, inFlight.size)
    return Promise.all(closed).then(() => undefined)
  }

  /** The deadline: 503 for what has not started, destroy the rest. */
  function cut (rejection: Rejection): CutRequest[] {
    const now = Date.now()
    const cutRequests: CutRequest[] = []
    for (const entry of inFlight.values()) {
      if (entry.cut) continue
      entry.cut = true
      const { req, res } = entry
      const base = { method: req.method ?? 'GET', url: req.url ?? '/', ageMs: now - entry.start }
      // The handler may still write later; that must not become an unhandled 'error'.
      res.on('error', noop)
      if (!res.headersSent && !res.writableEnded && !res.destroyed) {
        writeRejection(entry, rejection)
        cutRequests.push({ ...base, action: 'rejected' })
      } else {
        res.destroy()
        cutRequests.push({ ...base, action: 'destroyed' })
      }
    }
    for (const socket of upgraded) socket.destroy()
    return cutRequests
  }

  /** Whatever is left: idle sockets that did not close, half-done handshakes, sessions. */
  function destroyAll (): void {
    for (const socket of sockets.keys()) socket.destroy()
    for (const socket of raw) socket.destroy()
    for (const socket of upgraded) socket.destroy()
    for (const session of sessions) session.destroy()
  }

  /** What still holds the drain, for the log and the summary. */
  function holding (now = Date.now()): string[] {
    const held: string[] = []
    for (const { req, start } of inFlight.values()) {
      held.push(`request ${req.method ?? 'GET'} ${req.url ?? '/'} (${now - start} ms)`)
    }
    if (sessions.size > 0) held.push(`${sessions.size} HTTP/2 session(s)`)
    if (upgraded.size > 0) held.push(`${upgraded.size} upgraded socket(s) (WebSocket?)`)
    return held
  }

  return {
    attach,
    startDrain,
    closeAfterResponse,
    cut,
    destroyAll,
    holding,
    inFlight,
    get busy () { return inFlight.size > 0 || sessions.size > 0 || upgraded.size > 0 },
    get listening () { return servers.size > 0 && [...servers.keys()].every((s) => s.listening) },
    get attached () { return servers.size },
    get anyListening () { return [...servers.keys()].some((s) => s.listening) },
    counts: () => ({ inFlight: inFlight.size, sockets: sockets.size, sessions: sessions.size, upgraded: upgraded.size }),
    detachAll: () => { for (const detach of [...servers.values()]) detach() },
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

function noop (): void {}
