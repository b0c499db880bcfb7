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
    const head = await conn.request('/readyz', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['content-length']).toBe('18')
    const live = await conn.request('/livez')
    expect(live.status).toBe(200)
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' })
    expect(live.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(live.headers['cache-control']).toBe('no-store')
    // Other methods are the app's business while accepting.
    expect((await conn.request('/readyz', { method: 'POST' })).status).toBe(404)
    expect(await conn.request('/fast')).toMatchObject({ status: 200, body: 'fast' })
  })

  it('moves the endpoints to configured paths, and leaves a path turned off to the app', async () => {
    {
      await using h = await startApp(target, { health: { liveness: '/healthz', readiness: false } })
      await using conn = await openConnection(h.app.port)
      expect(await conn.request('/healthz')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
      expect((await conn.request('/livez')).status).toBe(404)
      expect((await conn.request('/readyz')).status).toBe(404)
    }
    for (const health of [false, { liveness: false, readiness: false }] as const) {
      await using h = await startApp(target, { health })
      await using conn = await openConnection(h.app.port)
      expect((await conn.request('/livez')).status, JSON.stringify(health)).toBe(404)
      expect((await conn.request('/readyz')).status, JSON.stringify(health)).toBe(404)
    }
  })

  it('lets readiness checks decide readiness, without leaking their errors', async () => {
    let healthy = true
    await using h = await startApp(target, { health: { checks: { db: () => { if (!healthy) throw new Error('ECONNREFUSED 10.0.0.7') } } } })
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/readyz')).status).toBe(200)
    healthy = false
    const failing = await conn.request('/readyz')
    expect(failing.status).toBe(503)
    expect(failing.body).not.toContain('ECONNREFUSED')
  })

  it('during readinessDelay: readiness 503, liveness 200, requests served normally with Connection: close', async () => {
    await using h = await startApp(target, { readinessDelay: 60_000, timeout: 120_000 })
    await using before = await openConnection(h.app.port)
    await using probe = await openConnection(h.app.port)
    expect((await before.request('/fast')).headers.connection?.toLowerCase()).toBe('keep-alive')
    expect((await probe.request('/readyz')).status).toBe(200)

    const summary = h.app.graceful.shutdown()
    expect(h.app.graceful.state).toBe('draining')
    // The delay is for the load balancer to notice: the drain has not begun.
    expect(h.app.graceful.signal.aborted).toBe(false)

    // Not ready from the first moment, on a connection that was already open too.
    const notReady = await probe.request('/readyz')
    expect(notReady.status).toBe(503)
    expect(JSON.parse(notReady.body)).toEqual({ status: 'draining' })
    expect(notReady.headers.connection).toBe('close')
    await expect(within(probe.ended, 5000, 'FIN after the probe')).resolves.toBe('fin')

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
    expect(h.app.graceful.signal.aborted).toBe(false)
    // The framework's own close waits for the drain.
    expect(h.app.closeHookRuns()).toBe(0)
    void h.app.graceful.force('skip the delay')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('forced')
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
    await using other = await openConnection(h.app.port)
    conn.send('/stream')
    other.send('/stream')
    await vi.waitFor(() => expect(Math.min(conn.bytesReceived, other.bytesReceived), 'the streams to start').toBeGreaterThan(0), patience)
    const summary = h.app.graceful.shutdown()
    conn.send('/livez')
    other.send('/readyz')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the probes to arrive').toBe(4), patience)
    h.stream.resolve()
    expect((await conn.response()).status).toBe(200)
    expect((await other.response()).status).toBe(200)
    const live = await conn.response()
    expect(live.status).toBe(200)
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' })
    expect(live.headers.connection).toBe('close')
    const ready = await other.response()
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    expect(ready.headers.connection).toBe('close')
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(0)
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
