import { describe, expect, it, vi } from 'vitest'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Clients an adversary would write, and health checks that misbehave, on every target.
describe.each(targets)('faults: clients and probes — $name', (target) => {
  it('pipelining behind a held request: the first completes with Connection: close, the rest is never a reset', async () => {
    await using h = await startApp(target)
    const g = h.app.graceful
    await using conn = await openConnection(h.app.port)
    conn.send('/slow')
    conn.send('/fast')
    conn.send('/fast')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the first request to arrive').toBeGreaterThanOrEqual(1), patience)
    const summary = g.shutdown()
    h.slow.resolve()
    const first = await conn.response()
    expect(first.status).toBe(200)
    expect(first.headers.connection).toBe('close')
    // Node drops what is queued behind a `Connection: close` response; whatever comes, it is a FIN.
    await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('a hostile URL never reaches the 503 body and never breaks the cut report', async () => {
    await using h = await startApp(target, { timeout: 1000, releaseTimeout: 250 })
    const g = h.app.graceful
    const cutUrls: string[] = []
    g.on('timeout', ({ cut }) => cutUrls.push(...cut.map((request) => request.url)))
    // The plain node:http target routes on the exact URL; the frameworks ignore the query.
    const hostile = target.name === 'node:http' ? '/slow' : `/slow?x=<script>alert(1)</script>%3Cscript%3E"'%00${'A'.repeat(4000)}`
    await using busy = await openConnection(h.app.port)
    const held = busy.request(hostile)
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = g.shutdown()
    const cut = await held
    expect(cut.status).toBe(503)
    expect(JSON.parse(cut.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect(cut.body).not.toContain('script')
    expect(cut.body).not.toContain('AAAA')
    await within(summary, 5000, 'the summary')
    expect(cutUrls).toEqual([hostile])
  })

  it('a half-closed client (request sent, write side ended) still gets its answer; the drain ends', async () => {
    await using h = await startApp(target)
    const g = h.app.graceful
    await using conn = await openConnection(h.app.port)
    conn.send('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)
    conn.socket.end()
    const summary = g.shutdown()
    h.slow.resolve()
    const result = await within(summary, 5000, 'the summary')
    expect(['clean', 'cut']).toContain(result.outcome)
    expect(result.durations.total).toBeLessThan(5000)
  })

  it('a client that never reads a streaming response is destroyed at the deadline, within the budget', async () => {
    await using h = await startApp(target, { timeout: 1000, releaseTimeout: 250 })
    const g = h.app.graceful
    await using conn = await openConnection(h.app.port)
    conn.send('/stream')
    await vi.waitFor(() => expect(conn.bytesReceived, 'the stream to start').toBeGreaterThan(0), patience)
    conn.socket.pause()
    const result = await within(g.shutdown(), 1000 + 1500, 'the summary')
    expect(result.outcome).toBe('cut')
    expect(result.cut.map((request) => request.action)).toEqual(['destroyed'])
    expect(result.durations.total).toBeLessThan(1000 + 500)
  })

  it('readiness checks that throw or hang answer 503 without leaking the error, within checkTimeout', async () => {
    await using h = await startApp(target, {
      health: {
        checks: {
          broken: () => { throw new Error('password=hunter2') },
          hangs: () => new Promise(() => {}),
        },
        checkTimeout: 200,
      },
    })
    await using conn = await openConnection(h.app.port)
    const started = Date.now()
    const res = await conn.request('/readyz')
    expect(res.status).toBe(503)
    expect(res.body).not.toContain('hunter2')
    expect(Date.now() - started).toBeLessThan(200 + 2000)
    expect((await conn.request('/livez')).status).toBe(200)
  })
})
