import { describe, expect, it, vi } from 'vitest'
import { drainWhileStreaming, endTheStream, expectServedInTheGraceWindow, startApp } from '../helpers/app.js'
import { openConnection, patience, type RawConnection, startChild, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

/** Resolves when the socket closes; rejects with the first error (a reset) seen before that. */
function closedCleanly (conn: RawConnection): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: Error | null = null
    conn.socket.on('error', (error) => { failure ??= error })
    conn.socket.once('close', () => failure ? reject(failure) : resolve())
  })
}

describe.each(targets)('requests arriving as the drain starts — $name', (target) => {
  it('serves a connection accepted at the instant the drain starts, request not yet sent, with Connection: close', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    const summary = h.app.graceful.shutdown()
    await expectServedInTheGraceWindow(conn, summary)
  })

  it('answers a non-GET/HEAD request to a health path after the grace window with the draining 503', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/livez')).status).toBe(200)
    const { summary } = await drainWhileStreaming(h, conn)
    conn.send('/livez', { method: 'POST', headers: { 'content-length': '0' } })
    await endTheStream(h)
    expect((await conn.response()).status).toBe(200)
    const res = await conn.response()
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    await within(summary, 5000, 'the summary')
  })

  it('answers Expect: 100-continue after the grace window with the 503 instead of 100 Continue', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const { summary } = await drainWhileStreaming(h, conn)
    conn.send('/fast', { method: 'POST', headers: { expect: '100-continue', 'content-length': '5' } })
    await endTheStream(h)
    expect((await conn.response()).status).toBe(200)
    const res = await conn.response()
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    await within(conn.ended, 5000, 'FIN')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('reads and discards the rest of an upload after its 503, then closes with a FIN, never a reset', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const { summary } = await drainWhileStreaming(h, conn)
    const closed = closedCleanly(conn)
    const body = 96 * 1024
    conn.write(`POST /fast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body}\r\n\r\n`)
    conn.write('x'.repeat(16 * 1024))
    await endTheStream(h)
    expect((await conn.response()).status).toBe(200)
    const res = await conn.response()
    expect(res.status).toBe(503)
    // The client goes on sending: the server reads the rest instead of resetting the connection.
    conn.write('x'.repeat(body - 16 * 1024))
    await within(closed, 5000, 'the connection to close')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('lets a client that writes its whole 32 MiB upload before reading read its 503, then a FIN', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const { summary } = await drainWhileStreaming(h, conn)
    const closed = closedCleanly(conn)
    const body = 32 * 1024 * 1024
    // Python's requests, Java's HttpClient: the whole body is written before anything is read.
    conn.socket.pause()
    const written = new Promise<void>((resolve, reject) => {
      conn.socket.write(Buffer.concat([Buffer.from(`POST /fast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body}\r\n\r\n`), Buffer.alloc(body, 'x')]), (error) => error ? reject(error) : resolve())
    })
    await endTheStream(h)
    await within(written, 20_000, 'the whole body to be written')
    conn.socket.resume()
    expect((await conn.response()).status).toBe(200)
    expect((await conn.response()).status).toBe(503)
    await within(closed, 5000, 'the connection to close')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('stops discarding past rejectedBodyLimit: the client reads its 503, then the connection closes', async () => {
    await using h = await startApp(target, { rejectedBodyLimit: 256 * 1024 })
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const { summary } = await drainWhileStreaming(h, conn)
    const closed = new Promise<void>((resolve) => conn.socket.once('close', () => resolve()))
    conn.socket.on('error', () => {})
    conn.write(`POST /fast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`)
    await endTheStream(h)
    expect((await conn.response()).status).toBe(200)
    const rejected = conn.response()
    // A client that reads while it sends: it keeps sending until the server gives up.
    let sent = 0
    const chunk = Buffer.alloc(64 * 1024, 'x')
    let open = true
    void closed.then(() => { open = false })
    while (open && sent < 64 * 1024 * 1024) {
      sent += chunk.length
      // Not events.once(): it rejects on the write error (EPIPE) that the close makes likely here.
      if (!conn.socket.write(chunk)) await new Promise((resolve) => { conn.socket.once('drain', resolve); void closed.then(resolve) })
    }
    expect((await within(rejected, 5000, 'the 503')).status).toBe(503)
    await within(closed, 5000, 'the connection to close')
    expect(sent).toBeLessThan(64 * 1024 * 1024)
    await within(summary, 5000, 'the summary')
  })
})

describe.each(targets)('exit with idle connections — $name', (target) => {
  it('leaves idle keep-alive connections to the kernel at exit: each client sees a FIN, never a reset', async () => {
    await using child = await startChild(target.name)
    const conns: RawConnection[] = []
    try {
      for (let i = 0; i < 50; i++) {
        const conn = await openConnection(child.port)
        expect((await conn.request('/fast')).status).toBe(200)
        conns.push(conn)
      }
      // Let the last responses age past the reuse window: these are idle, not being reused.
      await new Promise((resolve) => setTimeout(resolve, 120))
      const closes = conns.map((conn) => closedCleanly(conn))
      child.kill('SIGTERM')
      expect((await within(child.exited, 10_000, 'the exit')).code).toBe(0)
      await within(Promise.all(closes), 5000, 'every connection to close')
      for (const conn of conns) expect(conn.finReceived).toBe(true)
    } finally {
      for (const conn of conns) conn.socket.destroy()
    }
  })

  it('sends idle keep-alive connections their FIN at the drain start when a release hook delays the exit', async () => {
    await using child = await startChild(target.name, {}, { SLOW_HOOK_MS: '1500' })
    await using conn = await openConnection(child.port)
    expect((await conn.request('/fast')).status).toBe(200)
    // Let the response age past the reuse window: this connection is idle, not being reused.
    await new Promise((resolve) => setTimeout(resolve, 120))
    const closed = closedCleanly(conn)
    child.kill('SIGTERM')
    // A client reusing it during the hook must find it closed, never meet a 503: the FIN comes first.
    await within(conn.ended, 5000, 'the FIN')
    expect(child.hooks).not.toContain('slow-hook-done')
    await closed
    expect((await within(child.exited, 10_000, 'the exit')).code).toBe(0)
    expect(child.hooks).toContain('slow-hook-done')
  })
})

describe.each(targets)('requests in flight at the trigger — $name', (target) => {
  it('reports the age of a request already in flight at the trigger as a lower bound', async () => {
    await using h = await startApp(target, { timeout: 600, releaseTimeout: 100 })
    await using conn = await openConnection(h.app.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)
    const summary = await within(h.app.graceful.shutdown(), 5000, 'the summary')
    expect((await held).status).toBe(503)
    expect(summary.cut).toEqual([expect.objectContaining({ url: '/slow', action: 'rejected', ageKnown: false })])
    expect(summary.cut[0]!.ageMs).toBeGreaterThanOrEqual(400)
    expect(summary.holding).toEqual([expect.stringMatching(/^request GET \/slow \(≥ \d+ ms\)$/)])
  })
})
