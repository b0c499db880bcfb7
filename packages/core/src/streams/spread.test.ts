import http from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { afterTest, inProcessGraceful, listening, within } from '@graceful/test-kit'
import type { Graceful } from '../types/handle.js'
import { resolveOptions } from '../options/options.js'
import { closeSpread, spreadWindow } from './spread.js'

async function wsServer (g: Graceful, options?: { spread?: number | false }) {
  const server = http.createServer()
  g.attach(server)
  const wss = new WebSocketServer({ server })
  // When the server sent each close frame: the schedule under test (the
  // clients, in this same process, see them later when the loop is busy).
  const sent: number[] = []
  wss.on('connection', (client) => {
    const close = client.close.bind(client)
    client.close = (code?: number, reason?: string) => {
      // ws calls close() again when the client's close frame comes back.
      if (client.readyState === WebSocket.OPEN) sent.push(Date.now())
      close(code, reason)
    }
  })
  g.websockets(wss, options)
  server.listen(0, '127.0.0.1')
  const resource = await listening(server)
  afterTest(() => { wss.close() }, () => resource[Symbol.asyncDispose]())
  return { port: resource.port, wss, sent }
}

/** `n` clients, connected; each records when its close came and with which code. */
async function clients (port: number, n: number) {
  const closes: { at: number, code: number }[] = []
  const all: WebSocket[] = []
  for (let opened = 0; opened < n; opened += 200) {
    const batch = Array.from({ length: Math.min(200, n - opened) }, () => new WebSocket(`ws://127.0.0.1:${port}`))
    all.push(...batch)
    await within(Promise.all(batch.map((client) => new Promise((resolve, reject) => {
      client.once('open', resolve)
      client.once('error', reject)
    }))), 20_000, 'the clients to connect')
  }
  for (const client of all) client.once('close', (code) => closes.push({ at: Date.now(), code }))
  afterTest(() => { for (const client of all) client.terminate() })
  return closes
}

describe('a spread goodbye', () => {
  it('closes 2,000 WebSockets over the window, evenly, every one with 1001, within the budget', { timeout: 60_000 }, async () => {
    const g = inProcessGraceful({ timeout: 10_000 })
    const { port, wss, sent } = await wsServer(g, { spread: 2000 })
    const closes = await clients(port, 2000)
    expect(wss.clients.size).toBe(2000)
    const started = Date.now()
    const summary = await within(g.shutdown(), 15_000, 'the summary')
    expect(summary.outcome).toBe('clean')
    expect(summary.durations.total).toBeLessThan(10_000)
    await vi.waitFor(() => expect(closes).toHaveLength(2000), { timeout: 5000 })
    expect(closes.every((close) => close.code === 1001)).toBe(true)
    // Spread: a quarter of the window each quarter, give or take (a loaded machine delays ticks, never advances them).
    const offsets = sent.map((at) => at - started).sort((a, b) => a - b)
    const quarters = [0, 1, 2, 3].map((q) => offsets.filter((ms) => ms >= q * 500 && (q === 3 || ms < (q + 1) * 500)).length)
    expect(offsets).toHaveLength(2000)
    const received = closes.map((close) => close.at - started).sort((a, b) => a - b)
    console.log(`2,000 WebSockets, spread 2000 ms: close frames sent per 500 ms ${quarters.join(', ')} (first ${offsets[0]} ms, last ${offsets.at(-1)} ms); ` +
      `clients closed from ${received[0]} to ${received.at(-1)} ms; drain ${summary.durations.drain} ms, total ${summary.durations.total} ms`)
    for (const count of quarters.slice(0, 3)) expect(count).toBeGreaterThan(150)
    expect(offsets.at(-1)! - offsets[0]!).toBeGreaterThan(1500)
  })

  it('by default closes a handful of WebSockets at once, as before', async () => {
    const g = inProcessGraceful()
    const { port } = await wsServer(g)
    const closes = await clients(port, 5)
    const started = Date.now()
    await within(g.shutdown(), 5000, 'the summary')
    expect(closes.map((close) => close.code)).toEqual([1001, 1001, 1001, 1001, 1001])
    const offsets = closes.map((close) => close.at - started)
    expect(Math.max(...offsets) - Math.min(...offsets)).toBeLessThan(200)
  })

  it('ends SSE streams over the instance\'s window, each with its last event', { timeout: 30_000 }, async () => {
    const g = inProcessGraceful({ spread: 1000 })
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: hello\n\n')
      g.stream(res, { retry: 500 })
    })
    g.attach(server)
    server.listen(0, '127.0.0.1')
    const resource = await listening(server)
    afterTest(() => resource[Symbol.asyncDispose]())
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 })
    afterTest(() => agent.destroy())
    const ends: { at: number, body: string }[] = []
    await within(Promise.all(Array.from({ length: 200 }, () => new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: resource.port, agent }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
          resolve()
        })
        res.on('end', () => ends.push({ at: Date.now(), body }))
      }).on('error', reject)
    }))), 10_000, 'the streams to open')
    const started = Date.now()
    const summary = await within(g.shutdown(), 10_000, 'the summary')
    expect(summary.outcome).toBe('clean')
    await vi.waitFor(() => expect(ends).toHaveLength(200), { timeout: 5000 })
    expect(ends.every((end) => end.body === 'data: hello\n\nretry: 500\n\n')).toBe(true)
    const offsets = ends.map((end) => end.at - started).sort((a, b) => a - b)
    expect(offsets.at(-1)! - offsets[0]!).toBeGreaterThan(700)
    expect(offsets.filter((ms) => ms < 500).length).toBeGreaterThan(50)
  })

  it('picks its window: automatic from 100 connections, capped at half the time left', () => {
    expect(spreadWindow(5, undefined, 9000)).toBe(0)
    expect(spreadWindow(2000, undefined, 9000)).toBe(1000)
    expect(spreadWindow(20_000, undefined, 9000)).toBe(4500)
    expect(spreadWindow(2000, 3000, 4000)).toBe(2000)
    expect(spreadWindow(2000, false, 9000)).toBe(0)
    expect(() => resolveOptions({ spread: -1 })).toThrow(expect.objectContaining({ option: 'spread' }))
    expect(() => inProcessGraceful().websockets(new WebSocketServer({ noServer: true }), { spread: 'slow' as never })).toThrow(expect.objectContaining({ option: 'websockets.spread' }))
  })

  it('stops scheduling when the deadline aborts', async () => {
    const closed: number[] = []
    const controller = new AbortController()
    const done = closeSpread([1, 2, 3, 4], 400, (item) => {
      closed.push(item)
      if (item === 2) controller.abort()
    }, controller.signal)
    await done
    expect(closed).toEqual([1, 2])
  })
})
