import { describe, expect, it, vi } from 'vitest'
import type { GracefulEvents } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

describe.each(targets)('maintenance mode: pause() and resume() — $name', (target) => {
  it('answers readiness 503 with the reason, serves everything else, and comes back on resume()', async () => {
    await using h = await startApp(target)
    const g = h.app.graceful
    const paused: GracefulEvents['paused'][0][] = []
    const resumed: GracefulEvents['resumed'][0][] = []
    g.on('paused', (info) => paused.push(info)).on('resumed', (info) => resumed.push(info))
    await using conn = await openConnection(h.app.port)
    conn.send('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)

    expect(g.pause('disk check')).toBe(true)
    expect(g.ready).toBe(false)
    expect(g.state).toBe('accepting')
    expect(g.stats().paused).toMatchObject({ reason: 'disk check', since: expect.any(Number) })
    expect(paused).toEqual([expect.objectContaining({ reason: 'disk check', state: 'accepting' })])

    await using probe = await openConnection(h.app.port)
    const ready = await probe.request('/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'paused', reason: 'disk check' })
    // Nothing drains: the connection stays open, no Connection: close.
    expect(ready.headers.connection?.toLowerCase()).toBe('keep-alive')
    expect((await probe.request('/livez')).status).toBe(200)
    const fast = await probe.request('/fast')
    expect(fast).toMatchObject({ status: 200, body: 'fast' })
    expect(fast.headers.connection?.toLowerCase()).toBe('keep-alive')
    // The request in flight across the pause finishes as usual.
    h.slow.resolve()
    const slow = await conn.response()
    expect(slow).toMatchObject({ status: 200, body: 'slow' })
    expect(slow.headers.connection?.toLowerCase()).toBe('keep-alive')
    expect(g.signal.aborted).toBe(false)

    // A second pause replaces the reason, keeps the start, emits nothing.
    const since = g.stats().paused?.since
    expect(g.pause('reindexing')).toBe(true)
    expect(g.stats().paused).toEqual({ reason: 'reindexing', since })
    expect(paused).toHaveLength(1)

    expect(g.resume()).toBe(true)
    expect(g.resume()).toBe(false)
    expect(g.ready).toBe(true)
    expect(g.stats().paused).toBeNull()
    expect(resumed).toEqual([expect.objectContaining({ reason: 'reindexing', pausedMs: expect.any(Number), paused: null })])
    const back = await probe.request('/readyz')
    expect(back.status).toBe(200)
    expect(JSON.parse(back.body)).toEqual({ status: 'ready' })
    expect(h.app.closeHookRuns()).toBe(0)
  })

  it('without a reason, the body says paused only', async () => {
    await using h = await startApp(target)
    h.app.graceful.pause()
    await using probe = await openConnection(h.app.port)
    const ready = await probe.request('/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'paused' })
  })

  it('a shutdown during a pause proceeds, keeping only the part of readinessDelay the pause has not spent', async () => {
    await using h = await startApp(target, { readinessDelay: 60_000, timeout: 120_000 })
    const g = h.app.graceful
    g.pause('maintenance')
    // Paused a moment, far less than the delay: the rest of the delay is still served.
    const summary = g.shutdown()
    expect(g.state).toBe('draining')
    expect(g.signal.aborted).toBe(false)
    expect(g.pause()).toBe(false)
    expect(g.resume()).toBe(false)
    await using probe = await openConnection(h.app.port)
    const ready = await probe.request('/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    void g.force('skip the delay')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('forced')
  })

  it('a pause longer than readinessDelay: the drain starts at once', async () => {
    const delay = 100
    await using h = await startApp(target, { readinessDelay: delay, timeout: 10_000 })
    const g = h.app.graceful
    g.pause('out of rotation already')
    const since = g.stats().paused!.since
    await vi.waitFor(() => expect(Date.now() - since).toBeGreaterThan(delay), patience)
    const summary = g.shutdown()
    // No delay left: the drain began in the same turn.
    expect(g.signal.aborted).toBe(true)
    const result = await within(summary, 5000, 'the summary')
    expect(result.outcome).toBe('clean')
    expect(result.durations.readinessDelay).toBeLessThan(delay)
  })
})
