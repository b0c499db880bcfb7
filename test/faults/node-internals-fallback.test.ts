import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { afterTest, deferred, disposeAfterTest, inProcessGraceful, openConnection, patience, within } from '@graceful/test-kit'
import { startApp, type Harness } from '../helpers/app.js'
import { nodeHttpTarget } from '../targets/node-http.js'

// A Node whose private fields all changed: every reader in node-internals.ts
// answers what it answers when its field is gone. Forced here on every Node of
// the matrix, so each fallback keeps the promises it is there to keep.
vi.mock('../../packages/core/src/support/node-internals.ts', () => ({
  canReadCurrentResponse: () => false,
  currentResponse: () => null,
  msSinceActivity: () => null,
  loopTime: () => null,
  connectionsCheckingTimer: () => undefined,
  sessionSocket: () => undefined,
  listeningDescriptor: () => -1,
  writtenHeader: () => undefined,
}))

/** A response under way on a fresh connection (its first bytes read) when the shutdown starts. */
async function shutdownWhileSending (h: Harness, path: string) {
  const conn = disposeAfterTest(await openConnection(h.app.port))
  conn.send(path)
  await vi.waitFor(() => expect(conn.bytesReceived, `${path} to start`).toBeGreaterThan(0), patience)
  return { conn, summary: h.app.graceful.shutdown() }
}

describe('on a Node without the private fields graceful reads', () => {
  it('HTTP/1 without socket._httpMessage: the request in flight completes with Connection: close, idle connections get their FIN', async () => {
    await using h = await startApp(nodeHttpTarget)
    await using idle = await openConnection(h.app.port)
    expect((await idle.request('/fast')).headers.connection?.toLowerCase()).toBe('keep-alive')
    await using busy = await openConnection(h.app.port)
    expect((await busy.request('/fast')).status).toBe(200)
    const response = busy.request('/slow')
    // Tracked while accepting (the fallback): counted before any trigger.
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    // No keep-alive timer to read: every idle connection gets the reuse grace, then its FIN.
    await within(idle.ended, 5000, 'the FIN on the idle connection')
    expect(h.app.graceful.stats().inFlight).toBe(1)
    h.slow.resolve()
    const res = await response
    expect(res).toMatchObject({ status: 200, body: 'slow' })
    expect(res.headers.connection).toBe('close')
    await within(busy.ended, 5000, 'the FIN after the last response')
    const result = await within(summary, 5000, 'the summary')
    expect(result.outcome).toBe('clean')
    expect(result.requests.completed).toBe(1)
  })

  it('HTTP/1 without socket._httpMessage: a request behind a streaming response is answered (served or 503), never reset', async () => {
    await using h = await startApp(nodeHttpTarget)
    const { conn, summary } = await shutdownWhileSending(h, '/stream')
    conn.send('/fast')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the pipelined request to arrive').toBe(2), patience)
    h.stream.resolve()
    expect(await conn.response()).toMatchObject({ status: 200, body: 'start\nend\n' })
    const next = await conn.response()
    expect([200, 503]).toContain(next.status)
    expect(next.headers.connection).toBe('close')
    await within(conn.ended, 5000, 'the FIN')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('SSE without response._header: a stream opened with writeHead() still ends at the drain start (without the retry: line)', async () => {
    await using h = await startApp(nodeHttpTarget)
    const { conn, summary } = await shutdownWhileSending(h, '/events')
    const res = await conn.response()
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream')
    expect(res.body).toBe('data: hello\n\n')
    // Ended by the drain, not by the deadline: the connection is closed, the drain clean.
    await within(conn.ended, 5000, 'the FIN after the stream ended')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('HTTP/2 without the session\'s kSocket: the one-phase GOAWAY, and the open stream completes', async () => {
    const g = inProcessGraceful()
    const held = deferred()
    const server = http2.createServer(g.handler((req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      void held.promise.then(() => res.end('slow'))
    }))
    g.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterTest(() => server.close())
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    afterTest(() => client.destroy())
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()))
    const stream = client.request({ ':path': '/slow' })
    let body = ''
    stream.on('data', (chunk: Buffer) => { body += chunk.toString() })
    const ended = new Promise<void>((resolve) => stream.on('end', resolve))
    await vi.waitFor(() => expect(g.stats().inFlight, 'the stream to arrive').toBe(1), patience)
    const summary = g.shutdown()
    await within(goaway, 5000, 'GOAWAY')
    held.resolve()
    await within(ended, 5000, 'the stream to end')
    expect(body).toBe('slow')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('without server._handle.fd: a reload refuses, says why, and the process keeps serving', async () => {
    const g = inProcessGraceful({ reload: { signal: false } })
    const server = http.createServer(g.handler((req, res) => res.end('ok')))
    g.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterTest(() => new Promise((resolve) => server.close(resolve)))
    const result = await g.reload()
    expect(result).toMatchObject({ ok: false, pid: null })
    expect(result.ok === false && result.reason).toMatch(/file descriptor/)
    expect(g.state).toBe('accepting')
  })
})
