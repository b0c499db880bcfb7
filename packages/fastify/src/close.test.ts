import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify'
import fp from 'fastify-plugin'
import type { ShutdownSummary } from '@graceful/core'
import { describe, expect, it } from 'vitest'
import { deferred, type Deferred, disposeAfterTest, openConnection, type RawConnection, tryConnect, within } from '@graceful/test-kit'
import graceful from './index.js'
import { nextEvent, startApp, type TestApp } from './test-helpers.js'

type OrderedApp = TestApp & { order: string[], slow: Deferred }

/** An app whose close steps write to `order`: a release hook, a plugin's onClose, the root's onClose. */
async function orderedApp (options: Parameters<typeof startApp>[0] = {}): Promise<OrderedApp> {
  const order: string[] = []
  const slow = deferred()
  const t = await startApp(options, (app) => {
    app.get('/fast', async () => 'fast')
    app.get('/slow', async () => { await slow.promise; return 'slow' })
    app.graceful.onClose(() => { order.push(`release db (${app.graceful.state}, in flight ${app.graceful.stats().inFlight})`) }, { name: 'db' })
    void app.register(fp(async (instance: FastifyInstance<RawServerBase>) => {
      instance.addHook('onClose', async () => { order.push(`plugin onClose (${instance.graceful.state})`) })
    }))
    app.addHook('onClose', async () => { order.push('root onClose') })
  })
  disposeAfterTest(t)
  return { ...t, order, slow }
}

/** The steps of a full close, in order, as `orderedApp` records them. */
const closedInOrder = ['release db (closed, in flight 0)', 'plugin onClose (closed)', 'root onClose']

/** An `orderedApp` with one `/slow` request held on `busy`, drained by a SIGTERM-triggered shutdown. */
async function drainingOnSignal (): Promise<{ t: OrderedApp, busy: RawConnection, shutdown: Promise<ShutdownSummary> }> {
  const t = await orderedApp()
  const busy = await openConnection(t.port)
  disposeAfterTest(busy)
  busy.send('/slow')
  await t.received(1)
  const drain = nextEvent(t.app.graceful, 'drain')
  const shutdown = t.app.graceful.shutdown('SIGTERM')
  await drain
  return { t, busy, shutdown }
}

describe('app.close()', () => {
  it('drains first: readiness flips, the delay serves normally, idle sockets get a FIN, in-flight completes', async () => {
    const t = await orderedApp({ readinessDelay: 300 })
    await using busy = await openConnection(t.port)
    await using idle = await openConnection(t.port)
    await using delayed = await openConnection(t.port)
    await using probe = await openConnection(t.port)
    await idle.request('/fast')
    busy.send('/slow')
    await t.received(2)

    const draining = nextEvent(t.app.graceful, 'draining')
    const closed = t.app.close()
    const [info] = await draining
    expect(info.trigger).toBe('close')
    expect((await probe.request('/readyz')).status).toBe(503)
    // Fastify's return503OnClosing (on by default) must not answer during the delay.
    const during = await delayed.request('/fast')
    expect(during).toMatchObject({ status: 200, body: 'fast' })
    expect(during.headers.connection).toBe('close')

    await nextEvent(t.app.graceful, 'drain')
    await within(idle.ended, 5000, 'the FIN on the idle socket')
    expect(await tryConnect(t.port)).toBe('ECONNREFUSED')
    expect(t.order).toEqual([])
    t.slow.resolve()
    const answer = await busy.response()
    expect(answer).toMatchObject({ status: 200, body: 'slow' })
    expect(answer.headers.connection).toBe('close')

    await within(closed, 5000, 'app.close()')
    // `await app.close()` means everything: release hooks, then Fastify's onClose hooks, each once.
    expect(t.order).toEqual(closedInOrder)
    expect(t.onCloseRuns()).toBe(1)
    const summary = await t.app.graceful.shutdown()
    expect(summary).toMatchObject({ trigger: 'close', outcome: 'clean', requests: { completed: 3 } })
    expect(summary.hooks.map((h) => `${h.name}:${h.status}`)).toEqual(['db:ok', 'fastify.close:ok'])
  })

  it('cuts at the deadline with a real 503, then closes Fastify within the budget', async () => {
    const cut: string[] = []
    const t = await orderedApp({ timeout: 800, releaseTimeout: 200, onCut: (requests) => { cut.push(...requests.map((r) => `${r.method} ${r.url} ${r.action}`)) } })
    await using stuck = await openConnection(t.port)
    stuck.send('/slow')
    await t.received(1)
    const started = Date.now()
    await within(t.app.close(), 5000, 'app.close()')
    expect(Date.now() - started).toBeLessThan(800 + 500)
    const answer = await stuck.response()
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect(cut).toEqual(['GET /slow rejected'])
    const summary = await t.app.graceful.shutdown()
    expect(summary).toMatchObject({ trigger: 'close', outcome: 'cut', exitCode: 124, requests: { cut: 1 } })
    expect(t.order).toEqual(closedInOrder)
    t.slow.resolve()
  })

  it('runs Fastify\'s close once when called twice', async () => {
    const t = await orderedApp()
    await within(Promise.all([t.app.close(), t.app.close()]), 5000, 'two app.close()')
    await within(t.app.close(), 5000, 'a third app.close()')
    expect(t.order).toEqual(closedInOrder)
    expect(t.onCloseRuns()).toBe(1)
  })

  it('shuts the core down when the app never listened, leaving no signal listener behind', async () => {
    const before = process.listenerCount('SIGUSR2')
    const app = Fastify()
    await app.register(graceful, { signals: ['SIGUSR2'], exit: false })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    await within(app.close(), 5000, 'app.close() before ready')
    expect(app.graceful.state).toBe('closed')
    expect(process.listenerCount('SIGUSR2')).toBe(before)

    const injected = Fastify()
    await injected.register(graceful, { signals: ['SIGUSR2'], exit: false })
    expect((await injected.inject('/livez')).statusCode).toBe(200)
    await within(injected.close(), 5000, 'app.close() after inject')
    expect(injected.graceful.state).toBe('closed')
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })
})

describe('a signal (core-triggered shutdown)', () => {
  it('drains, runs the release hooks, then app.close() once, so every onClose hook runs once', async () => {
    const { t, busy, shutdown } = await drainingOnSignal()
    expect(t.order).toEqual([])
    t.slow.resolve()
    expect(await busy.response()).toMatchObject({ status: 200, headers: { connection: 'close' } })

    const summary = await within(shutdown, 5000, 'shutdown')
    expect(summary).toMatchObject({ trigger: 'SIGTERM', outcome: 'clean', exitCode: 0 })
    expect(summary.hooks.map((h) => `${h.name}:${h.status}`)).toEqual(['db:ok', 'fastify.close:ok'])
    expect(t.order).toEqual(closedInOrder)
    expect(t.onCloseRuns()).toBe(1)

    // Fastify is closed: a later app.close() resolves without running anything again.
    await within(t.app.close(), 5000, 'a later app.close()')
    expect(t.onCloseRuns()).toBe(1)
  })

  it('joins an app.close() called during its drain: one drain, hooks once, both resolve', async () => {
    const { t, busy, shutdown } = await drainingOnSignal()
    const closed = t.app.close()
    t.slow.resolve()
    await busy.response()
    await within(closed, 5000, 'app.close()')
    const summary = await within(shutdown, 5000, 'shutdown')
    expect(summary.trigger).toBe('SIGTERM')
    expect(summary.hooks.map((h) => `${h.name}:${h.status}`)).toEqual(['db:ok', 'fastify.close:ok'])
    expect(t.order).toEqual(closedInOrder)
    expect(t.onCloseRuns()).toBe(1)
  })

  it('reports a Fastify onClose hook that hangs as the "fastify.close" release hook timing out', async () => {
    const hang = deferred()
    const t = await startApp({ timeout: 600, releaseTimeout: 150 }, (app) => {
      app.addHook('onClose', async () => { await hang.promise })
    })
    disposeAfterTest(t)
    const summary = await within(t.app.graceful.shutdown('SIGTERM'), 5000, 'shutdown')
    expect(summary.outcome).toBe('failed')
    expect(summary.exitCode).toBe(1)
    expect(summary.hooks.find((h) => h.name === 'fastify.close')?.status).toBe('timeout')
    hang.resolve()
  })

  it('skips Fastify\'s close when forced; a later app.close() still runs it once', async () => {
    const { t, shutdown } = await drainingOnSignal()
    await t.app.graceful.force('SIGTERM')
    const summary = await within(shutdown, 5000, 'shutdown')
    expect(summary.outcome).toBe('forced')
    expect(t.order).toEqual([])
    await within(t.app.close(), 5000, 'app.close() after a forced shutdown')
    expect(t.order).toEqual(['plugin onClose (closed)', 'root onClose'])
    expect(t.onCloseRuns()).toBe(1)
  })
})

describe('app.close() called from an app.graceful.onClose hook', () => {
  // The NestJS-style "close the app from a cleanup hook". After a signal the
  // drain is over, so Fastify closes at once; inside the user's own app.close()
  // the call returns at once (the app closes right after the release hooks).
  for (const via of ['a signal', 'app.close()'] as const) {
    it(`completes instead of deadlocking (shutdown via ${via})`, async () => {
      const t = await startApp({ timeout: 4000, releaseTimeout: 2000 })
      disposeAfterTest(t)
      const order: string[] = []
      t.app.graceful.onClose(() => { order.push('db') }, { name: 'db' })
      t.app.graceful.onClose(async () => {
        await t.app.close()
        order.push('app.close() returned')
      }, { name: 'close-app' })
      const done = via === 'a signal' ? t.app.graceful.shutdown('SIGTERM') : t.app.close()
      const summary = await within(nextEvent(t.app.graceful, 'closed'), 3000, 'the shutdown')
      await within(done, 1000, via)
      expect(summary[0].hooks.map((h) => `${h.name}:${h.status}`)).toEqual(['close-app:ok', 'db:ok', 'fastify.close:ok'])
      expect(order).toEqual(['app.close() returned', 'db'])
      expect(t.onCloseRuns()).toBe(1)
    })
  }
})
