import { describe, expect, it, vi } from 'vitest'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

describe.each(targets)('hooks and close — $name', (target) => {
  it('runs release hooks once, last registered first, after the drain', async () => {
    await using h = await startApp(target)
    const order: string[] = []
    const g = h.app.graceful
    g.onClose(() => { order.push(`db inFlight=${g.stats().inFlight}`) }, { name: 'db' })
    g.onClose({ close: async () => { order.push('queue') } }, { name: 'queue' })
    g.onClose({ [Symbol.asyncDispose]: async () => { order.push('http-client') } }, { name: 'http-client' })
    await using conn = await openConnection(h.app.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const first = g.shutdown()
    const second = g.shutdown()
    expect(second).toBe(first)
    expect(order).toEqual([])
    h.slow.resolve()
    await held
    const summary = await within(first, 5000, 'the summary')
    expect(order).toEqual(['http-client', 'queue', 'db inFlight=0'])
    // Adapters may add their own release hooks (Fastify's app.close()): look at ours.
    const ours = summary.hooks.filter((hook) => ['http-client', 'queue', 'db'].includes(hook.name))
    expect(ours.map((hook) => [hook.name, hook.status])).toEqual([['http-client', 'ok'], ['queue', 'ok'], ['db', 'ok']])
    expect(await g.shutdown()).toBe(summary)
    expect(order).toHaveLength(3)
  })

  it('reports a hook that throws or hangs by name, and still runs the next one', async () => {
    await using h = await startApp(target, { timeout: 2000, releaseTimeout: 1000 })
    const g = h.app.graceful
    const ran: string[] = []
    const errors: string[] = []
    g.on('hookError', (result) => errors.push(`${result.name}:${result.status}`))
    g.onClose(() => { ran.push('last') }, { name: 'last' })
    g.onClose(() => new Promise(() => {}), { name: 'hangs', timeout: 100 })
    g.onClose(() => { throw new Error('nope') }, { name: 'throws' })
    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(ran).toEqual(['last'])
    expect(errors).toEqual(['throws:error', 'hangs:timeout'])
    expect(summary.outcome).toBe('failed')
    expect(summary.exitCode).toBe(1)
  })

  it('tells notify hooks when the drain starts, and waits for them', async () => {
    await using h = await startApp(target)
    const g = h.app.graceful
    const seen: string[] = []
    g.onDraining(async ({ signal }) => {
      seen.push(`notify aborted=${signal.aborted} drainSignal=${g.signal.aborted}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
      seen.push('notify done')
    }, { name: 'websockets' })
    g.onClose(() => { seen.push('release') })
    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(seen).toEqual(['notify aborted=false drainSignal=true', 'notify done', 'release'])
    expect(summary.hooks[0]).toMatchObject({ name: 'websockets', kind: 'notify', status: 'ok' })
  })

  it("runs the framework's own close lifecycle exactly once", async () => {
    await using h = await startApp(target)
    await within(h.app.close(), 5000, 'close')
    await within(h.app.close(), 5000, 'close again')
    await vi.waitFor(() => expect(h.app.closeHookRuns(), 'the close hook').toBe(1), patience)
    expect(h.app.closeHookRuns()).toBe(1)
    expect(h.app.graceful.state).toBe('closed')
  })
})
