// Beyond plain HTTP: what WebSocket, SSE and HTTP/2 clients see when a server drains.
// In-process (servers and clients share this process, graceful's `shutdown()`
// starts the drain): what is measured is the protocol exchange, not the signal path.
// Loopback only; every wait bounded; every server and client closed at the end.
import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket, WebSocketServer } from 'ws'
import { createGraceful } from '@graceful/core'

const drainTimeout = 3_000

export interface WebSocketRow {
  name: string
  clients: number
  /** Close codes the clients saw, e.g. { 1001: 200 }. */
  codes: Record<string, number>
  /** shutdown() → the last client closed. */
  lastCloseMs: number
  drainMs: number
  outcome: string
}

export interface SseRow {
  name: string
  /** The last event from the first instance → the first from the second, client side. */
  gapMs: number
  /** Events the client never saw (ids are a shared 20 ms tick; the second instance resumes from Last-Event-ID). */
  missed: number
  drainMs: number
}

export interface GoawayRow {
  name: string
  sessions: number
  /** Streams opened in the same tick as the drain start, served with 200. */
  served: number
  /** … refused (REFUSED_STREAM / GOAWAY: never processed, the client must retry). */
  refused: number
  drainMs: number
}

export interface ProtocolResults {
  websockets: WebSocketRow[]
  sse: SseRow[]
  goaway: GoawayRow[]
}

async function listen (server: http.Server | http2.Http2Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

function bounded<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => { throw new Error(`timed out: ${what}`) })])
}

/** N clients; the drain with `graceful.websockets(wss)`, and with the same server left to the deadline. */
export async function websockets (clients: number, helper: boolean): Promise<WebSocketRow> {
  const graceful = createGraceful({ signals: false, exit: false, timeout: drainTimeout, releaseTimeout: 500 })
  const server = http.createServer(graceful.handler((_req, res) => { res.end('ok') }))
  graceful.attach(server)
  const wss = new WebSocketServer({ server })
  if (helper) graceful.websockets(wss)
  const port = await listen(server)
  const sockets: WebSocket[] = []
  const closes: Promise<number>[] = []
  try {
    for (let i = 0; i < clients; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`)
      socket.on('error', () => {})
      closes.push(new Promise((resolve) => socket.once('close', (code) => resolve(code))))
      sockets.push(socket)
      await once(socket, 'open')
    }
    const started = performance.now()
    const summary = graceful.shutdown()
    const codes: Record<string, number> = {}
    let lastCloseMs = 0
    await bounded(Promise.all(closes.map((close) => close.then((code) => {
      codes[code] = (codes[code] ?? 0) + 1
      lastCloseMs = Math.max(lastCloseMs, performance.now() - started)
    }))), drainTimeout + 5_000, 'the WebSocket clients to close')
    const result = await summary
    return { name: helper ? 'graceful.websockets(wss)' : 'graceful, no helper (left to the deadline)', clients, codes, lastCloseMs, drainMs: result.durations.drain, outcome: result.outcome }
  } finally {
    for (const socket of sockets) socket.terminate()
    await graceful.force('bench')
    server.closeAllConnections()
  }
}

/** A minimal EventSource: follows `retry:` and `id:`, reconnects to the next instance (the load balancer's choice once the first left). */
async function sseClient (ports: number[], until: () => boolean) {
  const seen: { id: number, at: number }[] = []
  let retry = 3_000 // the browsers' default when the server never sent one
  let lastId = -1
  for (const port of ports) {
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/events', agent: false, headers: lastId >= 0 ? { 'last-event-id': String(lastId) } : {} }, (res) => {
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffer += chunk
          let end: number
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const event = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            for (const line of event.split('\n')) {
              if (line.startsWith('retry:')) retry = Number(line.slice(6))
              if (line.startsWith('id:')) {
                lastId = Number(line.slice(3))
                seen.push({ id: lastId, at: performance.now() })
              }
            }
          }
        })
        res.on('close', resolve)
        res.on('error', () => resolve())
      })
      req.on('error', () => resolve())
    })
    if (until()) break
    await sleep(retry)
  }
  return seen
}

/** An SSE client on instance A, which drains; the client moves to instance B. With `graceful.stream(res)`, and without. */
export async function sse (helper: boolean): Promise<SseRow> {
  const tickMs = 20
  const epoch = performance.now()
  const tick = () => Math.floor((performance.now() - epoch) / tickMs)
  const instances = [0, 1].map(() => {
    const graceful = createGraceful({ signals: false, exit: false, timeout: drainTimeout, releaseTimeout: 500 })
    const server = http.createServer(graceful.handler((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      // Resume after the last event the client saw: the standard Last-Event-ID handshake.
      let next = req.headers['last-event-id'] === undefined ? tick() : Number(req.headers['last-event-id']) + 1
      const timer = setInterval(() => {
        for (; next <= tick(); next++) res.write(`id: ${next}\ndata: ${next}\n\n`)
      }, tickMs)
      res.on('close', () => clearInterval(timer))
      if (helper) graceful.stream(res, { retry: 50 })
    }))
    graceful.attach(server)
    return { graceful, server }
  })
  try {
    const ports = await Promise.all(instances.map(({ server }) => listen(server)))
    let done = false
    const client = sseClient(ports, () => done)
    await sleep(500)
    const summary = instances[0]!.graceful.shutdown()
    const drained = await summary
    // Read the second instance for a while, then stop.
    await sleep(helper ? 500 : 4_000)
    done = true
    await instances[1]!.graceful.shutdown()
    const seen = await bounded(client, 10_000, 'the SSE client')
    const ids = seen.map((event) => event.id)
    let gap = 0
    for (let i = 1; i < seen.length; i++) gap = Math.max(gap, seen[i]!.at - seen[i - 1]!.at)
    const missed = ids.length === 0 ? 0 : ids[ids.length - 1]! - ids[0]! + 1 - new Set(ids).size
    return { name: helper ? 'graceful.stream(res, { retry: 50 })' : 'graceful, no helper (cut at the deadline)', gapMs: gap, missed, drainMs: drained.durations.drain }
  } finally {
    for (const { graceful, server } of instances) {
      await graceful.force('bench')
      server.closeAllConnections()
    }
  }
}

/** N h2c sessions, each opening a stream in the very tick the drain starts: two-phase GOAWAY (the core) vs `session.close()`. */
export async function goaway (sessions: number, twoPhase: boolean): Promise<GoawayRow> {
  const graceful = createGraceful({ signals: false, exit: false, timeout: drainTimeout, releaseTimeout: 500 })
  const server = http2.createServer()
  const serverSessions: http2.ServerHttp2Session[] = []
  server.on('session', (session) => serverSessions.push(session))
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 })
    stream.end('ok')
  })
  if (twoPhase) graceful.attach(server)
  const port = await listen(server)
  const clients: http2.ClientHttp2Session[] = []
  try {
    for (let i = 0; i < sessions; i++) {
      const client = http2.connect(`http://127.0.0.1:${port}`)
      client.on('error', () => {})
      clients.push(client)
      const warm = client.request({ ':path': '/' })
      warm.resume()
      await once(warm, 'end')
    }
    const outcomes = clients.map((client) => new Promise<'served' | 'refused'>((resolve) => {
      const req = client.request({ ':path': '/racing' })
      req.on('response', (headers) => resolve(headers[':status'] === 200 ? 'served' : 'refused'))
      req.on('error', () => resolve('refused'))
      req.on('close', () => resolve('refused'))
      req.resume()
    }))
    const started = performance.now()
    let drainMs: number
    if (twoPhase) {
      drainMs = (await graceful.shutdown()).durations.drain
    } else {
      // What Node offers: close the listener, close() each session (one GOAWAY), wait.
      server.close()
      await Promise.all(serverSessions.map((session) => new Promise<void>((resolve) => {
        if (session.destroyed) return resolve()
        session.close(() => resolve())
      })))
      drainMs = performance.now() - started
    }
    const results = await bounded(Promise.all(outcomes), 10_000, 'the racing streams')
    return {
      name: twoPhase ? 'two-phase GOAWAY (@graceful/core)' : 'one-phase GOAWAY (session.close())',
      sessions,
      served: results.filter((r) => r === 'served').length,
      refused: results.filter((r) => r === 'refused').length,
      drainMs,
    }
  } finally {
    for (const client of clients) client.destroy()
    for (const session of serverSessions) session.destroy()
    await graceful.force('bench')
    server.close()
  }
}

export async function protocols (log: (line: string) => void, size = { clients: 200, sessions: 100 }): Promise<ProtocolResults> {
  const results: ProtocolResults = { websockets: [], sse: [], goaway: [] }
  for (const helper of [true, false]) {
    const row = await websockets(size.clients, helper)
    log(`websockets ${row.name}: codes ${JSON.stringify(row.codes)}, last close ${row.lastCloseMs.toFixed(0)} ms, drain ${row.drainMs} ms`)
    results.websockets.push(row)
  }
  for (const helper of [true, false]) {
    const row = await sse(helper)
    log(`sse ${row.name}: gap ${row.gapMs.toFixed(0)} ms, ${row.missed} missed, drain ${row.drainMs} ms`)
    results.sse.push(row)
  }
  for (const twoPhase of [true, false]) {
    const row = await goaway(size.sessions, twoPhase)
    log(`goaway ${row.name}: ${row.served} served, ${row.refused} refused of ${row.sessions}, drain ${row.drainMs.toFixed(0)} ms`)
    results.goaway.push(row)
  }
  return results
}
