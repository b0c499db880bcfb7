import { createServer, Agent, type Server } from 'node:http'
import { PassThrough } from 'node:stream'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import request from 'supertest'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { deferred, type Deferred, h2cSession, http2Reply, inProcess, listening, openConnection, patience, sendRequest, within } from '@graceful/test-kit'
import { graceful, type GracefulKoaOptions, type GracefulMiddleware, type KoaContextLike } from './index.js'
import type { GracefulOptions } from '@graceful/core'
import { adapterView } from '@graceful/core/adapter'

// Koa 2 and 3 share every API these tests use; the type test checks both typings.
type AnyKoa = typeof Koa3
type App = Koa3

interface Running {
  app: App
  g: GracefulMiddleware
  server: Server
  port: number
  /** Errors Koa's `'error'` event saw. */
  errors: unknown[]
  /** Opened by the test to let `/slow` and `/slow-boom` go on. */
  slow: Deferred
  stream: Deferred
}

afterEach(() => {
  vi.restoreAllMocks()
})

function routes (app: App, run: Pick<Running, 'slow' | 'stream'>): void {
  app.use(async (ctx) => {
    switch (ctx.path) {
      case '/fast':
        ctx.body = 'fast'
        return
      case '/slow':
        await run.slow.promise
        ctx.body = 'slow'
        return
      case '/slow-boom':
        await run.slow.promise
        throw new Error('boom during the drain')
      case '/stream': {
        const body = new PassThrough()
        body.write('start\n')
        void run.stream.promise.then(() => body.end('end\n'))
        ctx.type = 'text/plain'
        ctx.body = body
        return
      }
      case '/boom':
        throw new Error('boom')
    }
  })
}

/** A Koa app as a user writes it: `graceful()` first, routes after, `g.listen()`. */
async function start (Koa: AnyKoa, options: GracefulKoaOptions = {}, before?: (app: App, g: GracefulMiddleware) => void): Promise<Running & AsyncDisposable> {
  const app = new Koa()
  const g = graceful({ ...inProcess, ...options })
  const errors: unknown[] = []
  app.on('error', (error: unknown) => errors.push(error))
  app.use(g)
  const run = { slow: deferred(), stream: deferred() }
  before?.(app, g)
  routes(app, run)
  const server = await listening(g.listen(app, 0, '127.0.0.1'))
  return {
    app,
    g,
    server: server.server,
    port: server.port,
    errors,
    ...run,
    [Symbol.asyncDispose]: async () => {
      run.slow.resolve()
      run.stream.resolve()
      await server[Symbol.asyncDispose]()
      await within(g.graceful.force('test teardown'), 5000, 'teardown')
    },
  }
}

function keepAliveAgent (): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  onTestFinished(() => { agent.destroy() })
  return agent
}

describe.each([
  { name: 'koa@2', Koa: Koa2 as unknown as AnyKoa },
  { name: 'koa@3', Koa: Koa3 },
])('@graceful/koa — $name', ({ Koa }) => {
  it('still hands errors thrown during the drain to an error-handling middleware after the gate', async () => {
    const handled: unknown[] = []
    await using started = await start(Koa, {}, (app) => {
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (error) {
          handled.push(error)
          ctx.status = 500
          ctx.body = 'handled'
        }
      })
    })
    const { port, g, slow, errors } = started
    await using conn = await openConnection(port)
    expect((await conn.request('/boom')).body).toBe('handled')
    const response = conn.request('/slow-boom')
    await vi.waitFor(() => expect(g.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = g.shutdown()
    slow.resolve()
    const res = await response
    expect(res).toMatchObject({ status: 500, body: 'handled' })
    expect(res.headers.connection).toBe('close')
    expect(handled.map((error) => (error as Error).message)).toEqual(['boom', 'boom during the drain'])
    expect(errors).toEqual([])
    await within(summary, 5000, 'the summary')
  })

  it('warns once, through process warnings and the logger, when no server is attached', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const app = new Koa()
    const g = graceful({ ...inProcess, logger })
    app.use(g)
    app.use((ctx) => { ctx.body = 'ok' })
    const callback = app.callback()
    onTestFinished(async () => { await g.graceful.force('test teardown') })
    const server = createServer((req, res) => { void callback(req, res) }).listen(0, '127.0.0.1')
    await using listener = await listening(server)
    const { port } = listener
    const agent = keepAliveAgent()

    expect((await sendRequest(port, '/', { agent })).body).toBe('ok')
    const ready = await sendRequest(port, '/readyz', { agent })
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'starting' })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('g.attach(server)'), { code: 'ERR_GRACEFUL_NOT_ATTACHED' })
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn).toHaveBeenCalledWith({ code: 'ERR_GRACEFUL_NOT_ATTACHED' }, expect.any(String))

    g.attach(server)
    expect((await sendRequest(port, '/readyz', { agent })).status).toBe(200)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('behind a mount that rewrites req.url (koa-mount), the gate matches health paths on ctx.originalUrl', async () => {
    const app = new Koa()
    const g = graceful({ ...inProcess, health: { liveness: '/admin/livez', readiness: false } })
    const arrived = deferred()
    const release = deferred()
    // Held across the trigger, so g's gate decides it; then stripped of /admin as koa-mount does (ctx.path sets req.url).
    app.use(async (ctx, next) => {
      arrived.resolve()
      await release.promise
      ctx.path = ctx.path.slice('/admin'.length) || '/'
      await next()
    })
    app.use(g)
    app.use((ctx) => { ctx.body = 'route' })
    const server = await new Promise<Server>((resolve) => {
      const returned: Server = g.listen(app, 0, '127.0.0.1', () => resolve(returned))
    })
    await using listener = await listening(server)
    onTestFinished(async () => { await g.graceful.force('test teardown') })
    const reply = sendRequest(listener.port, '/admin/livez')
    await within(arrived.promise, 5000, 'the probe to arrive')
    const summary = g.shutdown()
    release.resolve()
    const probe = await reply
    expect(probe.status).toBe(200)
    expect(JSON.parse(probe.body)).toEqual({ status: 'ok' })
    expect(probe.headers.connection).toBe('close')
    await within(summary, 5000, 'the shutdown')
  })

  it('mounted last, after middleware and routes: health answers, and a request during the drain gets its 503 before any middleware runs', async () => {
    const app = new Koa()
    const g = graceful(inProcess)
    const seen: string[] = []
    // A stream started before the trigger keeps the connection busy (no grace window): the request
    // pipelined behind it arrives during the drain and gets the draining 503.
    const stream = new PassThrough()
    app.use(async (ctx, next) => { seen.push(ctx.path); await next() })
    app.use(async (ctx, next) => {
      if (ctx.path === '/fast') ctx.body = 'fast'
      else if (ctx.path === '/stream') { ctx.body = stream; stream.write('first') } else await next()
    })
    app.use(g)
    await using server = await listening(g.listen(app, 0, '127.0.0.1'))
    onTestFinished(async () => { await g.graceful.force('teardown') })
    await using conn = await openConnection(server.port)
    expect((await conn.request('/fast')).body).toBe('fast')
    expect((await conn.request('/livez')).status).toBe(200)
    const before = conn.bytesReceived
    conn.send('/stream')
    await vi.waitFor(() => expect(conn.bytesReceived, 'the stream to start').toBeGreaterThan(before), patience)
    const summary = g.graceful.shutdown()
    conn.send('/fast')
    await vi.waitFor(() => expect(g.graceful.stats().inFlight, 'the pipelined request to arrive').toBe(2), patience)
    stream.end('last')
    expect((await conn.response()).status).toBe(200)
    const late = await conn.response()
    expect(late.status).toBe(503)
    expect(JSON.parse(late.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect(seen).toEqual(['/fast', '/livez', '/stream'])
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('listen() calls app.listen with every argument and attaches the server', async () => {
    const app = new Koa()
    const g = graceful(inProcess)
    app.use(g)
    const listen = vi.spyOn(app, 'listen')
    const server = await new Promise<Server>((resolve) => {
      const returned: Server = g.listen(app, { port: 0, host: '127.0.0.1' }, () => resolve(returned))
    })
    onTestFinished(async () => { await g.graceful.force('test teardown') })
    expect(listen).toHaveBeenCalledTimes(1)
    expect(listen.mock.results[0]?.value).toBe(server)
    expect(adapterView(g.graceful).attached).toBe(1)
    expect(g.graceful.ready).toBe(true)
    let closed = 0
    server.on('close', () => closed++)
    await g.shutdown()
    expect(server.listening).toBe(false)
    expect(closed).toBe(1)
  })

  it('works under supertest (request(app.callback()))', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const app = new Koa()
    const g = graceful(inProcess)
    onTestFinished(async () => { await g.graceful.force('test teardown') })
    app.use(g)
    app.use((ctx) => { ctx.body = { hello: 'world' } })
    await request(app.callback()).get('/hello').expect(200, { hello: 'world' })
    await request(app.callback()).get('/livez').expect(200, { status: 'ok' })
    // Nothing attached, nothing listening: not ready, and said so once.
    await request(app.callback()).get('/readyz').expect(503)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('with answerHealth: false, answers probes where g.health, g.liveness and g.readiness are mounted, even while draining', async () => {
    const seen: string[] = []
    await using started = await start(Koa, { answerHealth: false, health: { liveness: '/livez', readiness: '/ops/ready' } }, (app, g) => {
      // A logger and a router, as a user mounts them after the gate.
      app.use(async (ctx, next) => {
        seen.push(ctx.path)
        await next()
      })
      app.use(async (ctx, next) => {
        if (ctx.path === '/ops/live') return g.liveness(ctx, next)
        if (ctx.path === '/ops/ready') return g.readiness(ctx, next)
        return g.health(ctx, next)
      })
    })
    const { port, g, stream } = started
    await using conn = await openConnection(port)
    expect(await conn.request('/livez')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect(await conn.request('/ops/live')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect((await conn.request('/ops/ready?verbose=1')).status).toBe(200)
    expect((await conn.request('/ops/live', { method: 'POST' })).status).toBe(404)
    expect(seen).toEqual(['/livez', '/ops/live', '/ops/ready', '/ops/live'])

    // While draining, the gate lets the configured paths through to them.
    await using other = await openConnection(port)
    conn.send('/stream')
    other.send('/stream')
    await vi.waitFor(() => expect(conn.bytesReceived > 0 && other.bytesReceived > 0, 'the streams to start').toBe(true), patience)
    const summary = g.shutdown()
    conn.send('/livez')
    other.send('/ops/ready')
    await vi.waitFor(() => expect(g.graceful.stats().inFlight, 'the pipelined probes to arrive').toBe(4), patience)
    stream.resolve()
    expect((await conn.response()).body).toBe('start\nend\n')
    expect((await other.response()).body).toBe('start\nend\n')
    const live = await conn.response()
    expect(live).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect(live.headers.connection).toBe('close')
    const ready = await other.response()
    expect(ready).toMatchObject({ status: 503, body: '{"status":"draining"}' })
    expect(ready.headers.connection).toBe('close')
    const result = await within(summary, 5000, 'the summary')
    expect(result.requests.rejected).toBe(0)
    expect(seen.slice(-2).sort()).toEqual(['/livez', '/ops/ready'])
    expect(g.health.name).toBe('gracefulHealth')
    expect(g.liveness.name).toBe('gracefulLiveness')
    expect(g.readiness.name).toBe('gracefulReadiness')
  })
})

describe('graceful()', () => {
  it('validates options at creation, naming the option', () => {
    expect(() => graceful({ timeout: -1 })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'timeout' }))
    expect(() => graceful({ timout: 5 } as GracefulOptions)).toThrow(/"timout"/)
    expect(() => graceful({ answerHealth: 'yes' } as unknown as GracefulKoaOptions)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'answerHealth' }))
  })

  it('returns a named Koa middleware that delegates to the core handle', async () => {
    const g = graceful(inProcess)
    expect(g.name).toBe('gracefulMiddleware')
    expect(typeof g).toBe('function')
    expect(g.state).toBe('accepting')
    expect(g.signal).toBe(g.graceful.signal)
    const order: string[] = []
    g.onClose(() => { order.push('db') }, { name: 'db' })
    g.onClose(() => { order.push('queue') }, { name: 'queue' })
    g.onDraining(() => { order.push('notify') })
    g.markReady()
    expect(g.graceful.ready).toBe(true)
    const tracked = g.track(Promise.resolve('done'))
    const summary = await g.shutdown()
    expect(await tracked).toBe('done')
    expect(order).toEqual(['notify', 'queue', 'db'])
    expect(summary.hooks.map((hook) => hook.name)).toEqual(['notify#1', 'queue', 'db'])
    expect(g.state).toBe('closed')
    expect(await g.shutdown()).toBe(summary)
  })

  it('leaves Connection out of HTTP/2 draining 503s (Node throws on connection-specific headers)', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const g = graceful(inProcess)
    const summary = g.shutdown()
    const headers: Record<string, string> = {}
    const ctx = {
      req: { httpVersionMajor: 2, method: 'GET', url: '/orders', headers: {} },
      res: { headersSent: false, writableEnded: false },
      method: 'GET',
      path: '/orders',
      status: 404,
      body: undefined as unknown,
      set: (fields: Record<string, string>) => Object.assign(headers, fields),
    }
    const next = vi.fn(async () => {})
    await g(ctx as unknown as KoaContextLike, next)
    expect(next).not.toHaveBeenCalled()
    expect(ctx.status).toBe(503)
    expect(headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' })
    expect(JSON.parse(ctx.body as string)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect((await summary).requests.rejected).toBe(1)
  })
})

describe('over HTTP/2 (compatibility API)', () => {
  it('serves the POST stream that races the first GOAWAY, never a 503', async () => {
    const http2 = await import('node:http2')
    const g = graceful(inProcess)
    const app = new Koa3()
    app.use(g)
    app.use((ctx) => { ctx.body = `served ${ctx.method} ${ctx.path}` })
    const callback = app.callback()
    const server = http2.createServer((req, res) => { void callback(req as never, res as never) })
    g.attach(server)
    const client = await h2cSession(server)
    client.on('error', () => {})
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    // Same tick: the client's HEADERS and the server's first GOAWAY cross on the wire.
    const summary = g.shutdown()
    const stream = client.request({ ':path': '/orders', ':method': 'POST' })
    stream.end('{}')
    const response = within(http2Reply(stream), 5000, 'the response')
    expect(await response).toEqual({ status: 200, body: 'served POST /orders' })
    expect((await within(summary, 5000, 'the summary')).requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
  })
})
