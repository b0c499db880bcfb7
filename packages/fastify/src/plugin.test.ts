import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { adapterView } from '@graceful/core/adapter'
import Fastify from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { deferred, disposeAfterTest, openConnection, patience, tryConnect, within } from '@graceful/test-kit'
import graceful from './index.js'
import { listenOnTwoAddresses, startApp } from './test-helpers.js'

describe('registration', () => {
  it('decorates app.graceful with the core handle and attaches app.server', async () => {
    const t = disposeAfterTest(await startApp())
    const g = t.app.graceful
    expect(g.state).toBe('accepting')
    expect(adapterView(g).attached).toBe(1)
    expect(g.ready).toBe(true)
    for (const method of ['shutdown', 'onDraining', 'onClose', 'track', 'markReady', 'stats', 'on', 'off'] as const) {
      expect(typeof g[method]).toBe('function')
    }
    expect(g.signal).toBeInstanceOf(AbortSignal)
  })

  it('is not ready before listening (readyWhen: "listening")', async () => {
    const app = Fastify()
    await app.register(graceful, { signals: false, exit: false })
    const before = await app.inject('/readyz')
    expect(before.statusCode).toBe(503)
    expect(before.json()).toEqual({ status: 'starting' })
    await app.close()
  })

  it('throws a bad option at register time, naming it', async () => {
    const app = Fastify()
    await expect(app.register(graceful, { timeout: -1 })).rejects.toMatchObject({
      name: 'TypeError', code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'timeout',
    })
    const other = Fastify()
    await expect(other.register(graceful, { timout: 1 } as never)).rejects.toMatchObject({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'timout' })
  })

  it('accepts Fastify register options (prefix, logLevel) without passing them to the core', async () => {
    const app = Fastify()
    await app.register(graceful, { signals: false, exit: false, prefix: '/x', logLevel: 'warn' })
    expect(app.graceful.options.timeout).toBe(10_000)
    await app.close()
  })

  it('never mutates the options object', async () => {
    const options = Object.freeze({ signals: false as const, exit: false, timeout: 2000, health: Object.freeze({ liveness: '/live' }) })
    const copy = structuredClone(options)
    const t = disposeAfterTest(await startApp(options))
    expect(options).toEqual(copy)
    expect(t.app.graceful.options.health.liveness).toBe('/live')
  })

  it('logs through app.log by default, and through `logger` when given', async () => {
    const lines: Record<string, unknown>[] = []
    const stream = new Writable({
      write (chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        done()
      },
    })
    const app = Fastify({ logger: { level: 'info', stream } })
    await app.register(graceful, { signals: false, exit: false })
    await app.graceful.shutdown()
    expect(lines.some((line) => line.msg === 'graceful: draining, readiness is now not-ready' && line.trigger === 'shutdown')).toBe(true)

    const seen: string[] = []
    const logger = { debug: () => {}, info: (_fields: object, message: string) => { seen.push(message) }, warn: () => {}, error: () => {} }
    const quiet = Fastify({ logger: { level: 'info', stream } })
    const before = lines.length
    await quiet.register(graceful, { signals: false, exit: false, logger })
    await quiet.graceful.shutdown()
    expect(seen).toContain('graceful: closed')
    expect(lines.slice(before).some((line) => typeof line.msg === 'string' && line.msg.startsWith('graceful:'))).toBe(false)
  })

  it('drains every server Fastify binds for "localhost"', async () => {
    const app = Fastify()
    await app.register(graceful, { signals: false, exit: false })
    await listenOnTwoAddresses(app)
    disposeAfterTest({ [Symbol.asyncDispose]: () => app.close() })
    expect(app.addresses().map((a) => (a as AddressInfo).address).sort()).toEqual(['127.0.0.1', '127.0.0.2'])
    expect(adapterView(app.graceful).attached).toBe(2)
    const port = (app.addresses()[0] as AddressInfo).port
    await using second = await openConnection(port, '127.0.0.2')
    expect((await second.request('/readyz')).status).toBe(200)
    await app.close()
    await within(second.ended, 5000, 'the FIN on the second server')
    expect(await tryConnect(port, '127.0.0.2')).toBe('ECONNREFUSED')
  })
})

describe('health routes', () => {
  it('answers HEAD even with exposeHeadRoutes: false', async () => {
    const t = disposeAfterTest(await startApp({}, () => {}, { exposeHeadRoutes: false }))
    await using c = await openConnection(t.port)
    expect((await c.request('/livez', { method: 'HEAD' })).status).toBe(200)
    expect((await c.request('/readyz', { method: 'HEAD' })).status).toBe(200)
  })

})

describe('the gate', () => {
  it('answers through the reply: onSend and onResponse hooks see the 503, the error handler does not', async () => {
    const hold = deferred()
    const seen: number[] = []
    const errors: unknown[] = []
    const app = Fastify()
    // An earlier hook (e.g. auth) holds the request until the drain has begun.
    app.addHook('onRequest', async () => { await hold.promise })
    await app.register(graceful, { signals: false, exit: false })
    app.addHook('onResponse', async (_request, reply) => { seen.push(reply.statusCode) })
    app.setErrorHandler(async (error) => { errors.push(error) })
    app.get('/fast', async () => 'fast')
    await app.listen({ port: 0, host: '127.0.0.1' })
    disposeAfterTest({ [Symbol.asyncDispose]: () => app.close() })
    await using c = await openConnection((app.server.address() as { port: number }).port)
    c.send('/fast')
    await vi.waitFor(() => expect(app.graceful.stats().inFlight, 'the request').toBe(1), patience)
    const shutdown = app.graceful.shutdown()
    hold.resolve()
    const answer = await c.response()
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect((await within(shutdown, 5000, 'shutdown')).requests.rejected).toBe(1)
    expect(seen).toEqual([503])
    expect(errors).toEqual([])
  })
})
