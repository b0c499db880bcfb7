import http from 'node:http'
import { once } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { startApp } from '../helpers/app.js'
import { deferred, openConnection, patience, type RawConnection, startChild, within } from '@graceful/test-kit'
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
  it('answers a connection accepted at the instant the drain starts, request not yet sent, with the 503', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    const summary = h.app.graceful.shutdown()
    const res = await conn.request('/fast')
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('answers a non-GET/HEAD request to a health path with the draining 503', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/livez')).status).toBe(200)
    const summary = h.app.graceful.shutdown()
    const res = await conn.request('/livez', { method: 'POST', headers: { 'content-length': '0' } })
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    await within(summary, 5000, 'the summary')
  })

  it('answers Expect: 100-continue with the 503 instead of 100 Continue', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const summary = h.app.graceful.shutdown()
    const res = await conn.request('/fast', { method: 'POST', headers: { expect: '100-continue', 'content-length': '5' } })
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    await within(conn.ended, 5000, 'FIN')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('reads and discards the rest of an upload after its 503, then closes with a FIN, never a reset', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const summary = h.app.graceful.shutdown()
    const closed = closedCleanly(conn)
    const body = 96 * 1024
    conn.write(`POST /fast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body}\r\n\r\n`)
    conn.write('x'.repeat(16 * 1024))
    const res = await conn.response()
    expect(res.status).toBe(503)
    // The client goes on sending: the server reads the rest instead of resetting the connection.
    conn.write('x'.repeat(body - 16 * 1024))
    await within(closed, 5000, 'the connection to close')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('lets a client uploading 1 MiB read its 503 (past 256 KiB the connection is closed)', async () => {
    await using h = await startApp(target)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const warm = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: h.app.port, path: '/fast', agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) }).on('error', reject)
      })
      expect(warm).toBe(200)
      const summary = h.app.graceful.shutdown()
      const status = deferred<number>()
      const req = http.request({ host: '127.0.0.1', port: h.app.port, path: '/fast', method: 'POST', agent, headers: { 'content-length': String(1024 * 1024) } }, (res) => {
        status.resolve(res.statusCode ?? 0)
        res.resume()
      })
      // Past the bound the server closes: a write error after the 503 is expected, before it is a failure.
      req.on('error', (error) => status.reject(error))
      const chunk = Buffer.alloc(64 * 1024, 'x')
      for (let i = 0; i < 16 && !req.destroyed; i++) {
        if (!req.write(chunk)) await Promise.race([once(req, 'drain'), status.promise.catch(() => {})])
      }
      req.end()
      expect(await within(status.promise, 5000, 'the 503')).toBe(503)
      expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
    } finally {
      agent.destroy()
    }
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
