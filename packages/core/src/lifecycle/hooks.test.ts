import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { runReleaseHooks, toReleaseHook, type ReleaseHook } from './hooks.js'
import type { HookResult } from '../types/lifecycle.js'

// The budget arithmetic of release hooks, on fake time: which limit each hook
// gets, and what happens at it. The whole sequence runs in lifecycle.ts.

/** A release hook that never settles, and records when it started and when its signal aborted. */
function hanging (name: string, timeout?: number) {
  const seen = { started: -1, aborted: -1 }
  const hook = toReleaseHook((signal) => {
    seen.started = Date.now()
    signal.addEventListener('abort', () => { seen.aborted = Date.now() })
    return new Promise(() => {})
  }, { name, timeout }, 0)
  return { hook, seen }
}

/** A release hook that takes `ms` of (fake) time. */
function taking (name: string, ms: number): ReleaseHook {
  return toReleaseHook(() => new Promise((resolve) => setTimeout(resolve, ms)), { name }, 0)
}

const quiet = { start: () => {}, result: () => {} }

describe('release hooks: the budget', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }) })
  afterEach(() => { vi.useRealTimers() })

  it('gives each hanging hook a fair share of what is left: one cannot starve the next', async () => {
    const hooks = [hanging('a'), hanging('b'), hanging('c')]
    const run = runReleaseHooks(hooks.map((h) => h.hook), 900, quiet)
    await vi.advanceTimersByTimeAsync(900)
    const results = await run
    // Last registered first, 900 / 3 each.
    expect(results.map((r) => [r.name, r.status, r.durationMs])).toEqual([['c', 'timeout', 300], ['b', 'timeout', 300], ['a', 'timeout', 300]])
    expect(hooks.map((h) => [h.seen.started, h.seen.aborted])).toEqual([[600, 900], [300, 600], [0, 300]])
  })

  it('hands the time a quick hook did not use to the ones after it', async () => {
    const slow = hanging('slow')
    const run = runReleaseHooks([slow.hook, taking('quick', 100)], 1000, quiet)
    await vi.advanceTimersByTimeAsync(1000)
    const results = await run
    expect(results.map((r) => [r.name, r.status, r.durationMs])).toEqual([['quick', 'ok', 100], ['slow', 'timeout', 900]])
  })

  it('a hook\'s own timeout replaces its share, capped at what is left of the budget', async () => {
    const own = hanging('own', 100)
    const capped = hanging('capped', 5000)
    const run = runReleaseHooks([capped.hook, own.hook], 600, quiet)
    await vi.advanceTimersByTimeAsync(600)
    const results = await run
    expect(results.map((r) => [r.name, r.status, r.durationMs])).toEqual([['own', 'timeout', 100], ['capped', 'timeout', 500]])
  })

  it('skips a hook when nothing is left of the budget', async () => {
    const first = hanging('first', 1000)
    const run = runReleaseHooks([taking('never', 1), first.hook], 1000, quiet)
    await vi.advanceTimersByTimeAsync(1000)
    const results = await run
    expect(results.map((r) => [r.name, r.status, r.durationMs])).toEqual([['first', 'timeout', 1000], ['never', 'skipped', 0]])
  })

  it('force: abandons the running hook at once (its signal aborts) and skips the rest', async () => {
    const running = hanging('running')
    const forced = new AbortController()
    const reported: HookResult[] = []
    const run = runReleaseHooks([taking('skipped', 1), running.hook], 1000, { start: () => {}, result: (r) => reported.push(r) }, forced.signal)
    await vi.advanceTimersByTimeAsync(50)
    forced.abort()
    const results = await run
    expect(results.map((r) => [r.name, r.status, r.durationMs])).toEqual([['running', 'timeout', 50], ['skipped', 'skipped', 0]])
    expect(String(results[0]?.error)).toMatch(/abandoned by force\(\)/)
    expect(running.seen.aborted).toBe(50)
    expect(reported).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a hook that rejects after its limit is no unhandled rejection; one that throws is reported as an error', async () => {
    const late = toReleaseHook(() => new Promise((_resolve, reject) => setTimeout(reject, 200, new Error('late'))), { name: 'late', timeout: 100 }, 0)
    const throws = toReleaseHook(() => { throw new Error('at once') }, { name: 'throws' }, 0)
    const run = runReleaseHooks([throws, late], 1000, quiet)
    await vi.advanceTimersByTimeAsync(300)
    const results = await run
    expect(results.map((r) => [r.name, r.status])).toEqual([['late', 'timeout'], ['throws', 'error']])
  })
})
