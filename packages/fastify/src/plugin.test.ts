import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import dns from 'node:dns'
import Fastify from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { deferred, openConnection, patience, tryConnect, within } from '@graceful/test-kit'
import graceful from './index.js'
import { heldRoutes, nextEvent, startApp } from './test-helpers.js'

const open: AsyncDisposable[] = []
afterEach(async () => {
  for (const resource of open.splice(0).reverse()) await resource[Symbol.asyncDispose]()
})
function track<T extends AsyncDisposable> (resource: T): T {
  open.push(resource)
  return resource
}

describe('registration', () => {
  it('decorates app.graceful with the core handle and attaches app.server', async () => {
    const t = track(await startApp())
    const g = t.app.graceful
    expect(g.state).toBe('accepting')
    expect(g.attached).toBe(1)
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
    const t = track(await startApp(options))
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
    // Fastify listens once per address "localhost" resolves to (127.0.0.1 and ::1 on most
    // machines, one address on this one): make it resolve to two loopback addresses.
    const original = dns.lookup
    const patched = function (hostname: string, options: unknown, callback: unknown) {
      if (hostname !== 'localhost') return (original as (...args: unknown[]) => unknown)(hostname, options, callback)
      const all = [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]
      const done = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void
      const wantsAll = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true
      process.nextTick(() => wantsAll ? done(null, all) : done(null, '127.0.0.1', 4))
    }
    dns.lookup = patched as typeof dns.lookup
    const app = Fastify()
    try {
      await app.register(graceful, { signals: false, exit: false })
      await app.listen({ port: 0, host: 'localhost' })
    } finally {
      dns.lookup = original
    }
    track({ [Symbol.asyncDispose]: () => app.close() })
    expect(app.addresses().map((a) => (a as AddressInfo).address).sort()).toEqual(['127.0.0.1', '127.0.0.2'])
    expect(app.graceful.attached).toBe(2)
    const port = (app.addresses()[0] as AddressInfo).port
    await using second = await openConnection(port, '127.0.0.2')
    expect((await second.request('/readyz')).status).toBe(200)
    await app.close()
    await within(second.ended, 5000, 'the FIN on the second server')
    expect(await tryConnect(port, '127.0.0.2')).toBe('ECONNREFUSED')
  })
})

describe('health routes', () => {
  it('answers liveness and readiness on GET and HEAD, with a query string', async () => {
    const t = track(await startApp())
    await using c = await openConnection(t.port)
    const live = await c.request('/livez')
    expect(live).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect(live.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(live.headers['cache-control']).toBe('no-store')
    expect(await c.request('/readyz?probe=kubelet')).toMatchObject({ status: 200, body: '{"status":"ready"}' })
    const head = await c.request('/readyz', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe('18')
  })

  it('answers readiness 503 and liveness 200 while draining, on an open connection', async () => {
    const slow = deferred()
    const t = track(await startApp({ readinessDelay: 300 }, (app) => {
      app.get('/slow', async () => { await slow.promise; return 'slow' })
    }))
    await using busy = await openConnection(t.port)
    await using probe = await openConnection(t.port)
    await using live = await openConnection(t.port)
    busy.send('/slow')
    const shutdown = t.app.graceful.shutdown()
    const ready = await probe.request('/readyz')
    expect(ready).toMatchObject({ status: 503, body: '{"status":"draining"}' })
    expect(ready.headers.connection).toBe('close')
    expect(await live.request('/livez')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    slow.resolve()
    await busy.response()
    await within(shutdown, 5000, 'shutdown')
  })

  it('answers HEAD even with exposeHeadRoutes: false', async () => {
    const t = track(await startApp({}, () => {}, { exposeHeadRoutes: false }))
    await using c = await openConnection(t.port)
    expect((await c.request('/livez', { method: 'HEAD' })).status).toBe(200)
    expect((await c.request('/readyz', { method: 'HEAD' })).status).toBe(200)
  })

  it('moves to configured paths; `false` turns one or both off', async () => {
    const t = track(await startApp({ health: { liveness: '/healthz', readiness: false } }))
    await using c = await openConnection(t.port)
    expect((await c.request('/healthz')).status).toBe(200)
    expect((await c.request('/livez')).status).toBe(404)
    expect((await c.request('/readyz')).status).toBe(404)

    const off = track(await startApp({ health: false }))
    await using d = await openConnection(off.port)
    expect((await d.request('/livez')).status).toBe(404)
    expect((await d.request('/readyz')).status).toBe(404)
  })

  it('runs readiness checks, hiding their errors unless asked', async () => {
    const t = track(await startApp({ health: { checks: { db: () => { throw new Error('secret') } } } }))
    await using c = await openConnection(t.port)
    const answer = await c.request('/readyz')
    expect(answer.status).toBe(503)
    expect(answer.body).not.toContain('secret')
  })
})

describe('the gate', () => {
  it('answers a request arriving on a kept-alive connection during the drain with a 503, not through the error handler', async () => {
    const held = heldRoutes()
    const t = track(await startApp({ retryAfter: 7 }, held.routes))
    await using c = await openConnection(t.port)
    expect((await c.request('/fast')).headers.connection).toBe('keep-alive')
    // A response already streaming keeps the connection alive; a request pipelined behind it arrives during the drain.
    const before = c.bytesReceived
    c.send('/stream')
    await vi.waitFor(() => expect(c.bytesReceived, 'the stream to start').toBeGreaterThan(before), patience)
    const shutdown = t.app.graceful.shutdown()
    expect(t.app.graceful.stats().state).toBe('draining')
    c.send('/fast')
    await t.received(3)
    held.stream.resolve()
    expect(await c.response()).toMatchObject({ status: 200, body: 'start\nend\n' })
    const rejected = await c.response()
    expect(rejected.status).toBe(503)
    expect(rejected.headers).toMatchObject({ connection: 'close', 'retry-after': '7', 'content-type': 'application/json; charset=utf-8' })
    expect(JSON.parse(rejected.body)).toMatchObject({ statusCode: 503, code: 'ERR_GRACEFUL_DRAINING' })
    await within(c.ended, 5000, 'the FIN after the 503')
    const summary = await within(shutdown, 5000, 'shutdown')
    expect(summary.requests).toMatchObject({ rejected: 1, cut: 0 })
    expect(t.errors).toEqual([])
  })

  it('lets an in-flight request complete with Connection: close, and ends idle sockets at once', async () => {
    const held = heldRoutes()
    const t = track(await startApp({}, held.routes))
    await using busy = await openConnection(t.port)
    await using idle = await openConnection(t.port)
    await idle.request('/fast')
    busy.send('/slow')
    await t.received(2)
    const drain = nextEvent(t.app.graceful, 'drain')
    const shutdown = t.app.graceful.shutdown()
    await drain
    await within(idle.ended, 5000, 'the FIN on the idle socket')
    held.slow.resolve()
    const answer = await busy.response()
    expect(answer).toMatchObject({ status: 200, body: 'slow' })
    expect(answer.headers.connection).toBe('close')
    await within(busy.ended, 5000, 'the FIN after the last response')
    expect((await within(shutdown, 5000, 'shutdown')).outcome).toBe('clean')
  })

  it('still routes errors thrown by routes during the drain to Fastify\'s error handler', async () => {
    const held = heldRoutes()
    const t = track(await startApp({}, held.routes))
    await using c = await openConnection(t.port)
    c.send('/boom-later')
    await t.received(1)
    const shutdown = t.app.graceful.shutdown()
    held.slow.resolve()
    const answer = await c.response()
    expect(answer).toMatchObject({ status: 500, body: 'error' })
    expect(answer.headers.connection).toBe('close')
    expect(t.errors).toHaveLength(1)
    expect((t.errors[0] as Error).message).toBe('boom')
    await within(shutdown, 5000, 'shutdown')
  })

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
    track({ [Symbol.asyncDispose]: () => app.close() })
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
