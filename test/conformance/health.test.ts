import { describe, expect, it, vi } from 'vitest'
import request from 'supertest'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

describe.each(targets)('health and readinessDelay — $name', (target) => {
  it('reports ready while accepting, on GET and HEAD, with a query string', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    const ready = await conn.request('/readyz?verbose=1')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' })
    expect((await conn.request('/readyz', { method: 'HEAD' })).status).toBe(200)
    expect((await conn.request('/livez')).status).toBe(200)
  })

  it('during readinessDelay: readiness 503, liveness 200, requests served normally with Connection: close', async () => {
    await using h = await startApp(target, { readinessDelay: 60_000, timeout: 120_000 })
    await using before = await openConnection(h.app.port)
    expect((await before.request('/fast')).headers.connection?.toLowerCase()).toBe('keep-alive')

    void h.app.graceful.shutdown()
    expect(h.app.graceful.state).toBe('draining')

    // An existing keep-alive connection is still served, and told to close.
    const served = await before.request('/fast')
    expect(served.status).toBe(200)
    expect(served.body).toBe('fast')
    expect(served.headers.connection).toBe('close')
    await expect(within(before.ended, 5000, 'FIN after the response')).resolves.toBe('fin')

    // New connections are still accepted: the load balancer may not have noticed yet.
    for (const [path, status] of [['/readyz', 503], ['/livez', 200], ['/fast', 200]] as const) {
      await using conn = await openConnection(h.app.port)
      const res = await conn.request(path)
      expect(res.status, path).toBe(status)
      expect(res.headers.connection, path).toBe('close')
    }
    await using conn = await openConnection(h.app.port)
    expect(JSON.parse((await conn.request('/readyz')).body)).toEqual({ status: 'draining' })
  })

  it('still routes errors thrown during the drain to the framework error handler', async () => {
    await using h = await startApp(target, { readinessDelay: 60_000, timeout: 120_000 })
    void h.app.graceful.shutdown()
    await using conn = await openConnection(h.app.port)
    const res = await conn.request('/boom')
    expect(res.status).toBe(500)
    expect(res.headers.connection).toBe('close')
    expect(h.app.errors).toHaveLength(1)
    expect((h.app.errors[0] as Error).message).toBe('boom')
  })

  it('keeps liveness 200 and readiness 503 for probes on an open connection during the drain', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    conn.send('/stream')
    await vi.waitFor(() => expect(conn.bytesReceived, 'the stream to start').toBeGreaterThan(0), patience)
    void h.app.graceful.shutdown()
    conn.send('/livez')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the probe to arrive').toBe(2), patience)
    h.stream.resolve()
    expect((await conn.response()).status).toBe(200)
    const live = await conn.response()
    expect(live.status).toBe(200)
    expect(live.headers.connection).toBe('close')
  })

  it('works through supertest', async () => {
    await using h = await startApp(target, { readinessDelay: 60_000, timeout: 120_000 })
    const url = `http://127.0.0.1:${h.app.port}`
    await request(url).get('/readyz').expect(200)
    await request(url).get('/fast').expect(200, 'fast')
    void h.app.graceful.shutdown()
    await request(url).get('/readyz').expect(503)
    await request(url).get('/fast').expect('connection', 'close').expect(200)
  })
})
