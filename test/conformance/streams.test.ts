import { once } from 'node:events'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebSocket } from 'ws'
import type { ShutdownSummary } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { deferred, openConnection, patience, type RawResponse, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

/** A `ws` client that has received the server's `hello`; records how it was closed. */
async function connectWebSocket (port: number) {
  const client = new WebSocket(`ws://127.0.0.1:${port}/`)
  const hello = deferred<string>()
  const closed = deferred<{ code: number, reason: string }>()
  client.once('message', (data) => hello.resolve(String(data)))
  client.once('close', (code, reason) => closed.resolve({ code, reason: reason.toString() }))
  client.on('error', (error) => hello.reject(error))
  await expect(within(hello.promise, 5000, 'hello')).resolves.toBe('hello')
  return Object.assign(client, { closed: closed.promise, [Symbol.dispose]: () => client.terminate() })
}

/** `using` for a client created inside a try block. */
function cleanup (client: { terminate: () => void }): void {
  onTestFinished(() => client.terminate())
}

describe.each(targets)('WebSockets — $name', (target) => {
  it('sends close 1001 "going away" at the drain start and waits for the close handshake, not the deadline', async () => {
    await using h = await startApp(target, { timeout: 8000 }, { websockets: true })
    using first = await connectWebSocket(h.app.port)
    using second = await connectWebSocket(h.app.port)
    expect(h.app.graceful.stats().upgraded).toBe(2)

    const summary = await within(h.app.graceful.shutdown(), 5000, 'the summary')
    await expect(first.closed).resolves.toEqual({ code: 1001, reason: 'going away' })
    await expect(second.closed).resolves.toEqual({ code: 1001, reason: 'going away' })
    expect(summary.outcome).toBe('clean')
    expect(summary.hooks.filter((hook) => hook.kind === 'notify')).toEqual([expect.objectContaining({ name: 'websockets', kind: 'notify', status: 'ok' })])
    // Far from the deadline (6 s of drain): the handshakes ended it.
    expect(summary.durations.drain).toBeLessThan(3000)
  })

  it('answers an upgrade arriving during the drain with the draining 503, and keeps serving during the readiness delay', async () => {
    await using h = await startApp(target, {}, { websockets: true })
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    // The connection is reused for an upgrade the moment the drain starts: the upgrade is on
    // the wire before the drain starts, read after — the keep-alive race, inside the 50 ms a
    // just-used connection gets. Frozen timers keep that window open however busy the machine
    // is; it closes (advanced by hand) once the 503 is in.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let summary: Promise<unknown>
    let res: RawResponse
    try {
      conn.send('/', { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
      summary = h.app.graceful.shutdown()
      res = await conn.response()
    } finally {
      vi.advanceTimersByTime(60)
      vi.useRealTimers()
    }
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    expect(res.headers['retry-after']).toBe('1')
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
    expect(h.app.wss?.clients.size).toBe(0)
    await within(summary, 5000, 'the summary')
  })

  it('accepts upgrades during the readiness delay, then closes them with 1001 at the drain start', async () => {
    await using h = await startApp(target, { timeout: 8000, readinessDelay: 300 }, { websockets: true })
    // The delay's timer frozen until the handshake is done, however busy the machine is;
    // Date with it, so that advancing the timer also reaches the delay's deadline.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    let summary: Promise<ShutdownSummary>
    let late: Awaited<ReturnType<typeof connectWebSocket>>
    try {
      summary = h.app.graceful.shutdown()
      expect(h.app.graceful.state).toBe('draining')
      late = await connectWebSocket(h.app.port)
    } finally {
      vi.advanceTimersByTime(300)
      vi.useRealTimers()
    }
    cleanup(late)
    await expect(within(late.closed, 5000, 'the close frame')).resolves.toEqual({ code: 1001, reason: 'going away' })
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })
})

describe.each(targets)('streaming responses (SSE) — $name', (target) => {
  it('ends an event stream at the drain start with a last retry: event, so the drain does not wait for the deadline', async () => {
    await using h = await startApp(target, { timeout: 8000, retryAfter: 2 })
    await using conn = await openConnection(h.app.port)
    conn.send('/events')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight === 1 && conn.bytesReceived > 0, 'the stream to start').toBe(true), patience)

    const summary = await within(h.app.graceful.shutdown(), 5000, 'the summary')
    const res = await conn.response()
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
    expect(res.body).toBe('data: hello\n\nretry: 2000\n\n')
    await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
    expect(summary.outcome).toBe('clean')
    expect(summary.requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
    expect(summary.durations.drain).toBeLessThan(3000)
  })

  it('forgets a stream whose client went away', async () => {
    await using h = await startApp(target)
    const conn = await openConnection(h.app.port)
    conn.send('/events')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight === 1 && conn.bytesReceived > 0, 'the stream to start').toBe(true), patience)
    conn.socket.destroy()
    await once(conn.socket, 'close')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the server to see the client leave').toBe(0), patience)
    expect((await within(h.app.graceful.shutdown(), 5000, 'the summary')).outcome).toBe('clean')
  })
})
