import http from 'node:http'
import express5, { type ErrorRequestHandler, type Express } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { describe, expect, onTestFinished, test, vi } from 'vitest'
import { deferred, inProcess, listening, sendRequest, within } from '@graceful/test-kit'
import { graceful, type GracefulExpressOptions, type GracefulMiddleware } from './index.js'
import { adapterView } from '@graceful/core/adapter'

// Both majors run the same spec; it uses only the API they share, so Express 5's typings describe both.
type ExpressFactory = typeof express5
const majors = [
  { name: 'express@4', express: express4 as unknown as ExpressFactory, major: 4 },
  { name: 'express@5', express: express5, major: 5 },
]

describe.each(majors)('$name', ({ express }) => {
  /** The app a user writes: `g` first, routes, a 4-argument error handler last. `await using` forces it down. */
  function build (options: GracefulExpressOptions = {}, between?: (app: Express, g: GracefulMiddleware) => void) {
    const g = graceful({ ...inProcess, ...options })
    const app = express()
    app.use(g)
    between?.(app, g)
    app.get('/fast', (_req, res) => { res.type('text/plain').send('fast') })
    app.get('/boom', () => { throw new Error('boom') })
    const onError: ErrorRequestHandler = (_error, _req, res, _next) => {
      res.status(500).type('text/plain').send('error')
    }
    app.use(onError)
    return { g, app, [Symbol.asyncDispose]: async () => { await g.graceful.force('teardown') } }
  }

  /** `build()`, listening through `g.listen()` on 127.0.0.1:0. */
  async function start (options: GracefulExpressOptions = {}, between?: (app: Express, g: GracefulMiddleware) => void) {
    const built = build(options, between)
    const server = await listening(built.g.listen(built.app, 0, '127.0.0.1'))
    return {
      ...built,
      port: server.port,
      [Symbol.asyncDispose]: async () => {
        await server[Symbol.asyncDispose]()
        await built[Symbol.asyncDispose]()
      },
    }
  }

  test('is a named 3-argument middleware carrying the core handle', async () => {
    await using started = await start()
    const { g } = started
    expect(g.name).toBe('gracefulMiddleware')
    expect(g.length).toBe(3)
    expect(g.state).toBe('accepting')
    expect(adapterView(g.graceful).attached).toBe(1)
    expect(g.signal.aborted).toBe(false)
  })

  test('g.pause() and g.resume(): maintenance mode from the middleware handle', async () => {
    await using started = await start()
    const { g, port } = started
    expect(g.pause('backup')).toBe(true)
    const paused = await sendRequest(port, '/readyz')
    expect(paused.status).toBe(503)
    expect(JSON.parse(paused.body)).toEqual({ status: 'paused', reason: 'backup' })
    expect((await sendRequest(port, '/fast')).status).toBe(200)
    expect(g.resume()).toBe(true)
    expect((await sendRequest(port, '/readyz')).status).toBe(200)
  })

  test('listen() passes its arguments to app.listen() and attaches the server', async () => {
    await using built = build()
    const { g, app } = built
    const called = deferred()
    const server = g.listen(app, { port: 0, host: '127.0.0.1' }, () => called.resolve())
    await using listener = await listening(server)
    expect(adapterView(g.graceful).attached).toBe(1)
    await within(called.promise, 5000, 'the listen callback')
    expect(g.graceful.ready).toBe(true)
    expect((await sendRequest(listener.port, '/readyz')).status).toBe(200)
    let closes = 0
    server.on('close', () => closes++)
    await within(g.shutdown(), 5000, 'the shutdown')
    expect(server.listening).toBe(false)
    expect(closes).toBe(1)
  })

  test('a request without an attached server: one process warning and log, readiness not ready until attached', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => { if ((warning as { code?: string }).code === 'ERR_GRACEFUL_NOT_ATTACHED') warnings.push(warning) }
    process.on('warning', onWarning)
    onTestFinished(() => { process.off('warning', onWarning) })
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    await using built = build({ logger })
    const { g, app } = built
    const server = http.createServer(app).listen(0, '127.0.0.1')
    await using listener = await listening(server)
    const { port } = listener

    expect((await sendRequest(port, '/fast')).body).toBe('fast')
    const notReady = await sendRequest(port, '/readyz')
    expect(notReady.status).toBe(503)
    expect(JSON.parse(notReady.body)).toEqual({ status: 'starting' })
    await within(new Promise((resolve) => setImmediate(resolve)), 5000, 'the warning to be emitted')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toMatch(/no server is attached.*g\.attach\(server\)/)
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn).toHaveBeenCalledWith({ code: 'ERR_GRACEFUL_NOT_ATTACHED' }, expect.stringContaining('no server is attached'))

    g.attach(server)
    expect((await sendRequest(port, '/readyz')).status).toBe(200)
    expect(warnings).toHaveLength(1)
  })

  test('supertest works on the bare app (it creates its own server)', async () => {
    await using built = build()
    const { g, app } = built
    const noWarnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    onTestFinished(() => { noWarnings.mockRestore() })
    await request(app).get('/fast').expect(200, 'fast')
    await request(app).get('/livez').expect(200, { status: 'ok' })
    // No attached server is listening: not ready, unless the app says so.
    await request(app).get('/readyz').expect(503, { status: 'starting' })
    g.markReady()
    await request(app).get('/readyz').expect(200, { status: 'ready' })
    await request(app).get('/boom').expect(500, 'error')
    expect(noWarnings).toHaveBeenCalledTimes(1)
  })

  test('answerHealth: false lets health requests through your middleware to g.health, g.liveness, g.readiness', async () => {
    const seen: string[] = []
    await using started = await start({ answerHealth: false, health: { liveness: '/internal/livez', readiness: '/internal/readyz' } }, (app, g) => {
      app.use((req, res, next) => {
        seen.push(req.originalUrl)
        if (req.headers.authorization !== 'secret') return void res.status(401).send('no')
        next()
      })
      app.use('/internal', g.health)
      app.get('/ready-too', g.readiness)
      app.get('/live-too', g.liveness)
    })
    const auth = { Authorization: 'secret' }
    const get = (path: string, headers: Record<string, string> = {}) => sendRequest(started.port, path, { headers })
    expect((await get('/internal/livez')).status).toBe(401)
    expect((await get('/internal/livez', auth)).body).toBe('{"status":"ok"}')
    expect((await get('/internal/readyz?full=1', auth)).body).toBe('{"status":"ready"}')
    expect((await get('/internal/other', auth)).status).toBe(404)
    expect((await get('/ready-too', auth)).status).toBe(200)
    expect((await get('/live-too', auth)).status).toBe(200)
    // The default paths are not answered by anyone.
    expect((await get('/livez', auth)).status).toBe(404)
    expect(seen).toContain('/internal/readyz?full=1')
  })

  /** The app's own router stack: `app.router` in Express 5, `app._router` in 4. */
  const stackOf = (app: Express) => ((app as unknown as { _router?: { stack: unknown[] } })._router ?? (app as unknown as { router: { stack: unknown[] } }).router).stack as { handle: unknown, route?: { path: unknown } }[]

  test('once attached, g\'s layer is a route for the health paths at the same place: answered after the middleware before it, exactly as before', async () => {
    const seen: string[] = []
    const g = graceful({ ...inProcess })
    onTestFinished(async () => { await g.graceful.force('teardown') })
    const app = express()
    // A logger before g: health requests still pass through it.
    app.use((req, _res, next) => { seen.push(`${req.method} ${req.originalUrl}`); next() })
    app.use(g)
    app.get('/fast', (_req, res) => { res.type('text/plain').send('fast') })
    const index = stackOf(app).findIndex((layer) => layer.handle === g)
    expect(index).toBeGreaterThanOrEqual(0)
    const length = stackOf(app).length
    await using server = await listening(g.listen(app, 0, '127.0.0.1'))
    const stack = stackOf(app)
    expect(stack.some((layer) => layer.handle === g)).toBe(false)
    expect(stack).toHaveLength(length)
    expect(stack[index]!.route?.path).toEqual(['/livez', '/readyz'])

    const port = server.port
    expect(await sendRequest(port, '/readyz?probe=1')).toMatchObject({ status: 200, body: '{"status":"ready"}' })
    expect(await sendRequest(port, '/livez', { method: 'HEAD' })).toMatchObject({ status: 200, body: '' })
    expect((await sendRequest(port, '/fast')).body).toBe('fast')
    // Exact paths, GET and HEAD only, as the middleware matched: the rest is the app's.
    expect((await sendRequest(port, '/READYZ')).status).toBe(404)
    expect((await sendRequest(port, '/readyz/')).status).toBe(404)
    expect((await sendRequest(port, '/readyz', { method: 'POST' })).status).toBe(404)
    expect(seen).toEqual(['GET /readyz?probe=1', 'HEAD /livez', 'GET /fast', 'GET /READYZ', 'GET /readyz/', 'POST /readyz'])
  })

  test('g.attach(app.listen()) replaces the layer too; under a path, or with answerHealth: false, g stays a middleware', async () => {
    await using built = build()
    const server = built.app.listen(0, '127.0.0.1')
    built.g.attach(server)
    await using listener = await listening(server)
    expect(stackOf(built.app).some((layer) => layer.handle === built.g)).toBe(false)
    expect((await sendRequest(listener.port, '/readyz')).status).toBe(200)

    const mounted = graceful({ ...inProcess, health: { liveness: '/ops/livez', readiness: '/ops/readyz' } })
    const app = express()
    app.use('/ops', mounted)
    app.get('/ops/other', (_req, res) => { res.send('other') })
    await using mountedServer = await listening(mounted.listen(app, 0, '127.0.0.1'))
    onTestFinished(async () => { await mounted.graceful.force('teardown') })
    expect(stackOf(app).some((layer) => layer.handle === mounted)).toBe(true)
    expect((await sendRequest(mountedServer.port, '/ops/readyz')).status).toBe(200)
    expect((await sendRequest(mountedServer.port, '/ops/other')).body).toBe('other')

    const manual = graceful({ ...inProcess, answerHealth: false })
    const manualApp = express()
    manualApp.use(manual)
    await using manualServer = await listening(manual.listen(manualApp, 0, '127.0.0.1'))
    onTestFinished(async () => { await manual.graceful.force('teardown') })
    expect(stackOf(manualApp).some((layer) => layer.handle === manual)).toBe(true)
    expect((await sendRequest(manualServer.port, '/readyz')).status).toBe(404)
  })

  test('hooks and tasks go through the delegates', async () => {
    const order: string[] = []
    await using started = await start()
    const { g, port } = started
    const task = deferred()
    void g.track(task.promise, { name: 'job' })
    g.onDraining(() => { order.push('draining') }, { name: 'notify' })
    g.onClose(() => { order.push('db') }, { name: 'db' })
    g.onClose(() => { order.push('queue') }, { name: 'queue' })
    expect((await sendRequest(port, '/fast')).status).toBe(200)
    const summary = g.shutdown()
    expect(g.shutdown()).toBe(summary)
    await within(new Promise((resolve) => setImmediate(resolve)), 5000, 'a turn')
    expect(order).toEqual(['draining'])
    task.resolve()
    const result = await within(summary, 5000, 'the shutdown')
    expect(order).toEqual(['draining', 'queue', 'db'])
    expect(result.hooks.map((hook) => `${hook.kind} ${hook.name} ${hook.status}`)).toEqual(['notify notify ok', 'release queue ok', 'release db ok'])
  })
})

describe('graceful() options', () => {
  test('bad options throw a TypeError naming the option, before any signal listener is installed', () => {
    const before = process.listenerCount('SIGTERM')
    expect(() => graceful({ answerHealth: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({
      name: 'TypeError', code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'answerHealth',
    }) as Error)
    expect(() => graceful({ timeout: -1 })).toThrow(expect.objectContaining({ name: 'TypeError', option: 'timeout' }) as Error)
    expect(() => graceful({ nope: 1 } as GracefulExpressOptions)).toThrow(/"nope"/)
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })

  test('never mutates the options object', () => {
    const options = Object.freeze({ ...inProcess, answerHealth: false, health: Object.freeze({ liveness: '/l' }) })
    const g = graceful(options)
    expect(g.graceful.options.health.liveness).toBe('/l')
    expect(g.graceful.options.health.readiness).toBe('/readyz')
  })
})
