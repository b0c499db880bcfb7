import { describe, expect, it } from 'vitest'
import { deferred, disposeAfterTest, within } from '@graceful/test-kit'
import { startApp } from './test-helpers.js'

// app.inject() never reaches app.server, where the core gates requests while draining.
describe('app.inject() sees what a socket sees', () => {
  it('serves with Connection: close during the readiness delay', async () => {
    const t = await startApp({ readinessDelay: 60_000, timeout: 120_000 }, (app) => { app.get('/fast', async () => 'fast') })
    disposeAfterTest(t)
    expect((await t.app.inject({ url: '/fast' })).headers.connection).not.toBe('close')
    void t.app.graceful.shutdown()
    const res = await within(t.app.inject({ url: '/fast' }), 5000, 'the injected request')
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('fast')
    expect(res.headers.connection).toBe('close')
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(503)
  })

  it('answers the draining 503 during the drain, in every form of inject(), and still serves probes', async () => {
    const t = await startApp({ retryAfter: 4 }, (app) => { app.get('/fast', async () => 'fast') })
    disposeAfterTest(t)
    // A tracked task keeps the drain going.
    const held = deferred()
    void t.app.graceful.track(held.promise, { name: 'held' })
    const summary = t.app.graceful.shutdown()
    expect(t.app.graceful.state).toBe('draining')
    const res = await within(t.app.inject({ url: '/fast' }), 5000, 'the injected request')
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('4')
    expect(res.headers.connection).toBe('close')
    expect(res.json()).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    const viaCallback = await new Promise<number>((resolve, reject) => {
      t.app.inject({ url: '/fast' }, (error, response) => error ? reject(error) : resolve(response!.statusCode))
    })
    expect(viaCallback).toBe(503)
    expect((await t.app.inject().get('/fast').end()).statusCode).toBe(503)
    expect((await t.app.inject({ url: '/livez' })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(503)
    held.resolve()
    await within(summary, 5000, 'the summary')
  })
})
