import { describe, expect, it, vi } from 'vitest'
import type { CutRequest } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

describe.each(targets)('drain deadline — $name', (target) => {
  it('answers a request whose response has not started with a real 503, destroys a started one, and reports both', async () => {
    const reported: CutRequest[][] = []
    await using h = await startApp(target, { timeout: 800, releaseTimeout: 200, retryAfter: 3, onCut: (cut) => reported.push(cut) })
    await using stuck = await openConnection(h.app.port)
    await using streaming = await openConnection(h.app.port)
    const stuckResponse = stuck.request('/slow')
    streaming.send('/stream')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight === 2 && streaming.bytesReceived > 0, 'both requests to start').toBe(true), patience)

    const timeouts: string[][] = []
    h.app.graceful.on('timeout', (info) => timeouts.push(info.holding))
    const summary = await within(h.app.graceful.shutdown(), 5000, 'the summary')

    const res = await stuckResponse
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    expect(res.headers['retry-after']).toBe('3')
    // The started stream never completes: its connection is cut mid-body.
    await expect(streaming.response()).rejects.toMatchObject({ code: expect.stringMatching(/^(FIN_BEFORE_RESPONSE|ECONNRESET)$/) })

    expect(summary.outcome).toBe('cut')
    expect(summary.exitCode).toBe(124)
    expect(summary.cut).toHaveLength(2)
    expect(summary.cut).toEqual(expect.arrayContaining([
      expect.objectContaining({ method: 'GET', url: '/slow', action: 'rejected' }),
      expect.objectContaining({ method: 'GET', url: '/stream', action: 'destroyed' }),
    ]))
    for (const cut of summary.cut) expect(cut.ageMs).toBeGreaterThanOrEqual(0)
    expect(reported).toEqual([summary.cut])
    expect(summary.holding).toEqual(expect.arrayContaining([expect.stringMatching(/^request GET \/slow/), expect.stringMatching(/^request GET \/stream/)]))
    expect(timeouts).toEqual([summary.holding])
    // The budget holds with a wide margin: the drain was cut at 600 ms, everything ended by 800 ms.
    expect(summary.durations.total).toBeLessThan(800 + 500)
  })

  it('aborts tracked tasks at the deadline and names them', async () => {
    await using h = await startApp(target, { timeout: 600, releaseTimeout: 100 })
    let aborted: unknown
    void h.app.graceful.track(({ signal }) => new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason
        resolve()
      })
    }), { name: 'reindex' })
    const summary = await within(h.app.graceful.shutdown(), 5000, 'the summary')
    expect(summary.holding).toEqual(['task reindex'])
    expect(summary.outcome).toBe('cut')
    expect(aborted).toMatchObject({ code: 'ERR_GRACEFUL_DEADLINE' })
  })
})
