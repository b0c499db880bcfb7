import { describe, expect, it, vi } from 'vitest'
import type { HookResult } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { deferred, openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Hooks that throw, reject, hang or re-enter the API are reported by name and never stop the
// drain; the exit code says the worst that happened (cut 124 over failed 1).
const ours = (hooks: HookResult[], names: string[]) =>
  hooks.filter((hook) => names.includes(hook.name)).map((hook) => `${hook.kind} ${hook.name} ${hook.status}`)

describe.each(targets)('faults: hooks — $name', (target) => {
  it('a notify hook that never settles is reported by name as timed out at the deadline; cut (124) wins over failed (1)', async () => {
    await using h = await startApp(target, { timeout: 800, releaseTimeout: 300 })
    const g = h.app.graceful
    const errors: string[] = []
    g.on('hookError', (result) => errors.push(`${result.kind} ${result.name} ${result.status}`))
    g.onDraining(() => new Promise(() => {}), { name: 'websockets' })
    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(ours(summary.hooks, ['websockets'])).toEqual(['notify websockets timeout'])
    expect(errors).toContain('notify websockets timeout')
    expect(summary.holding).toContain('task notify websockets')
    expect(summary.outcome).toBe('cut')
    expect(summary.exitCode).toBe(124)
  })

  it('a notify hook that rejects, nothing cut: failed, exit code 1', async () => {
    await using h = await startApp(target, { timeout: 2000 })
    const g = h.app.graceful
    g.onDraining(async () => { throw new Error('ws close failed') }, { name: 'websockets' })
    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(ours(summary.hooks, ['websockets'])).toEqual(['notify websockets error'])
    expect(summary.outcome).toBe('failed')
    expect(summary.exitCode).toBe(1)
  })

  it('force() while a release hook runs abandons it, skips the rest and resolves at once with outcome forced', async () => {
    await using h = await startApp(target, { timeout: 60_000, releaseTimeout: 30_000 })
    const g = h.app.graceful
    const ran: string[] = []
    const aborted = deferred<boolean>()
    g.onClose(() => { ran.push('database') }, { name: 'database' })
    g.onClose((signal) => new Promise(() => { signal.addEventListener('abort', () => aborted.resolve(true)) }), { name: 'hangs' })
    const shutdown = g.shutdown()
    await vi.waitFor(() => expect(g.stats().hook, 'the hanging hook to run').toBe('hangs'), patience)
    const forced = g.force('operator')
    expect(forced).toBe(shutdown)
    const summary = await within(forced, 2000, 'the forced summary')
    expect(summary.outcome).toBe('forced')
    expect(ours(summary.hooks, ['hangs', 'database'])).toEqual(['release hangs timeout', 'release database skipped'])
    expect(ran).toEqual([])
    expect(await within(aborted.promise, 1000, 'the hook signal to abort')).toBe(true)
  })

  it('forced before the drain began, notify hooks are skipped and every hook appears once', async () => {
    await using h = await startApp(target, { timeout: 60_000, readinessDelay: 30_000 })
    const g = h.app.graceful
    let notified = false
    g.onDraining(() => { notified = true }, { name: 'notify' })
    g.onClose(() => {}, { name: 'release' })
    const shutdown = g.shutdown()
    await vi.waitFor(() => expect(g.state, 'draining').toBe('draining'), patience)
    const summary = await within(g.force('operator'), 2000, 'the forced summary')
    expect(await shutdown).toBe(summary)
    expect(notified).toBe(false)
    expect(ours(summary.hooks, ['notify', 'release'])).toEqual(['notify notify skipped', 'release release skipped'])
  })

  it('hooks that re-enter the API (shutdown, force, stats, onClose) neither deadlock nor run twice', async () => {
    await using h = await startApp(target, { timeout: 3000 })
    const g = h.app.graceful
    const ran: string[] = []
    g.onClose(async () => {
      ran.push('inner')
    }, { name: 'inner' })
    g.onClose(async () => {
      ran.push(`outer hook=${g.stats().hook}`)
      // Awaiting its own shutdown from inside would deadlock until the hook's timeout: don't; starting it is harmless.
      void g.shutdown()
      g.onClose(() => { ran.push('late') }, { name: 'late' })
    }, { name: 'outer' })
    g.onDraining(async () => {
      ran.push('notify')
      expect(g.shutdown()).toBe(g.shutdown())
    }, { name: 'notify' })
    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(ran).toEqual(['notify', 'outer hook=outer', 'inner'])
    expect(summary.outcome).toBe('clean')
    expect(ours(summary.hooks, ['notify', 'outer', 'inner', 'late'])).toEqual(['notify notify ok', 'release outer ok', 'release inner ok'])
  })

  it('a held request, a hook that throws synchronously and one that rejects: the request completes, both reported, exit 1', async () => {
    await using h = await startApp(target, { timeout: 3000 })
    const g = h.app.graceful
    g.onClose(() => { throw new Error('sync') }, { name: 'sync' })
    g.onClose(() => Promise.reject(new Error('async')), { name: 'async' })
    await using conn = await openConnection(h.app.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)
    const shutdown = g.shutdown()
    h.slow.resolve()
    expect((await held).status).toBe(200)
    const summary = await within(shutdown, 5000, 'the summary')
    expect(ours(summary.hooks, ['sync', 'async'])).toEqual(['release async error', 'release sync error'])
    expect(summary.exitCode).toBe(1)
  })
})
