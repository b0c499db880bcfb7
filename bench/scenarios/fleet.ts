// Beyond the drain: what large fleets do. In-process, like section 7 (servers
// and clients share one process, `shutdown()` starts the drain):
//   - the readiness delay, fixed or a quiet period, behind a simulated balancer
//     that polls /readyz every 200 ms and stops routing on the first 503;
//   - a spread goodbye: 2,000 WebSockets closed at once, or over a window.
// The HAProxy rolling restart (test/e2e/rolling-restart.test.ts) and the
// connection-age rebalancing (test/e2e/connection-age.test.ts) print the same
// comparisons against real processes; the hot-path cost of maxConnectionAge is
// a contender of section 1 (`@graceful/core + maxConnectionAge`).
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket, WebSocketServer } from 'ws'
import { createGraceful, type GracefulOptions } from '@graceful/core'

export interface QuietRow {
  name: string
  /** The readiness delay the summary reports, and why it ended. */
  delayMs: number
  endedBy: string
  /** shutdown() → closed. */
  totalMs: number
  requests: number
  failed: number
}

export interface SpreadRow {
  name: string
  clients: number
  /** Close frames sent: the first → the last. */
  spanMs: number
  /** The most close frames sent in any 100 ms. */
  peakPer100Ms: number
  codes: Record<string, number>
  drainMs: number
}

export interface FleetResults {
  quiet: QuietRow[]
  spread: SpreadRow[]
}

async function listen (server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/**
 * 8 keep-alive clients behind a balancer that checks /readyz every 200 ms and
 * stops sending once it reads 503 (HAProxy's `inter 200 fall 1`), then the drain.
 */
export async function quietPeriod (name: string, readinessDelay: GracefulOptions['readinessDelay']): Promise<QuietRow> {
  const graceful = createGraceful({ signals: false, exit: false, logger: false, timeout: 5000, readinessDelay })
  const server = http.createServer(graceful.handler((_req, res) => { res.end('ok') }))
  graceful.attach(server)
  const port = await listen(server)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  let routing = true
  let requests = 0
  let failed = 0
  const get = (path: string, use = agent) => new Promise<number>((resolve) => {
    http.get({ host: '127.0.0.1', port, path, agent: use }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    }).on('error', () => resolve(0))
  })
  const checker = (async () => {
    while (routing) {
      await sleep(200)
      if (await get('/readyz', false as unknown as http.Agent) !== 200) routing = false
    }
  })()
  const worker = async () => {
    while (routing) {
      const status = await get('/')
      requests++
      if (status !== 200) failed++
      await sleep(2)
    }
  }
  try {
    const workers = Array.from({ length: 8 }, worker)
    await sleep(300)
    const started = performance.now()
    const summary = await graceful.shutdown()
    const totalMs = performance.now() - started
    routing = false
    await Promise.all([...workers, checker])
    return { name, delayMs: summary.readinessDelay.ms, endedBy: summary.readinessDelay.endedBy, totalMs, requests, failed }
  } finally {
    routing = false
    agent.destroy()
    await graceful.force('bench')
    server.closeAllConnections()
  }
}

/** `clients` WebSockets; the drain with `graceful.websockets(wss, { spread })`. */
export async function spreadGoodbye (name: string, clients: number, spread: number | false | undefined): Promise<SpreadRow> {
  const graceful = createGraceful({ signals: false, exit: false, logger: false, timeout: 10_000 })
  const server = http.createServer()
  graceful.attach(server)
  const wss = new WebSocketServer({ server })
  const sent: number[] = []
  wss.on('connection', (client) => {
    const close = client.close.bind(client)
    client.close = (code?: number, reason?: string) => {
      if (client.readyState === WebSocket.OPEN) sent.push(performance.now())
      close(code, reason)
    }
  })
  graceful.websockets(wss, spread === undefined ? {} : { spread })
  const port = await listen(server)
  const sockets: WebSocket[] = []
  const codes: Record<string, number> = {}
  try {
    for (let opened = 0; opened < clients; opened += 200) {
      const batch = Array.from({ length: Math.min(200, clients - opened) }, () => new WebSocket(`ws://127.0.0.1:${port}/`))
      for (const socket of batch) {
        socket.on('error', () => {})
        socket.once('close', (code) => { codes[code] = (codes[code] ?? 0) + 1 })
      }
      sockets.push(...batch)
      await Promise.all(batch.map((socket) => once(socket, 'open')))
    }
    const summary = await graceful.shutdown()
    sent.sort((a, b) => a - b)
    let peak = 0
    for (let i = 0, j = 0; i < sent.length; i++) {
      while (sent[i]! - sent[j]! >= 100) j++
      peak = Math.max(peak, i - j + 1)
    }
    for (let waited = 0; Object.values(codes).reduce((a, b) => a + b, 0) < clients && waited < 5000; waited += 50) await sleep(50)
    return { name, clients, spanMs: (sent.at(-1) ?? 0) - (sent[0] ?? 0), peakPer100Ms: peak, codes, drainMs: summary.durations.drain }
  } finally {
    for (const socket of sockets) socket.terminate()
    await graceful.force('bench')
    server.closeAllConnections()
  }
}

export async function fleet (log: (line: string) => void, config: { websockets: number }): Promise<FleetResults> {
  const quiet: QuietRow[] = []
  for (const [name, delay] of [['fixed readinessDelay: 1500', 1500], ['quiet period { quiet: 300, max: 1500 }', { quiet: 300, max: 1500 }]] as const) {
    const row = await quietPeriod(name, delay)
    log(`fleet ${name}: delay ${row.delayMs} ms (${row.endedBy}), total ${row.totalMs.toFixed(0)} ms, ${row.requests} requests, ${row.failed} failed`)
    quiet.push(row)
  }
  const spread: SpreadRow[] = []
  for (const [name, value] of [['spread: false (all at once)', false], ['spread: automatic', undefined], ['spread: 3000', 3000]] as const) {
    const row = await spreadGoodbye(name, config.websockets, value)
    log(`fleet ${name}: ${row.clients} WebSockets, close frames over ${row.spanMs.toFixed(0)} ms, peak ${row.peakPer100Ms} per 100 ms, codes ${JSON.stringify(row.codes)}, drain ${row.drainMs} ms`)
    spread.push(row)
  }
  return { quiet, spread }
}
