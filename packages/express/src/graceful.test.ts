import http, { type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import express5, { type ErrorRequestHandler, type Express } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { deferred, type Deferred, inProcess, sendRequest, within } from '@graceful/test-kit'
import { graceful, type GracefulExpressOptions, type GracefulMiddleware } from './index.js'

// Both majors run the same spec; it uses only the API they share, so Express 5's typings describe both.
type ExpressFactory = typeof express5
const majors = [
  { name: 'express@4', express: express4 as unknown as ExpressFactory, major: 4 },
  { name: 'express@5', express: express5, major: 5 },
]

/** One HTTP/1.1 connection driven by hand, for pipelining: Node's client never pipelines. */
async function rawConnection (port: number) {
  const socket: Socket = connect({ port, host: '127.0.0.1' })
  await within(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'connect')
  let text = ''
  const waiters = new Set<() => void>()
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    text += chunk
    for (const wake of waiters) wake()
  })
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(text)))
  socket.on('error', () => {})
  return {
    socket,
    send: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
    /** Resolves once the bytes received so far contain `needle`. */
    received: (needle: string) => within(new Promise<void>((resolve) => {
      const check = () => {
        if (!text.includes(needle)) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    }), 5000, `"${needle}" on the raw connection`),
    /** Everything the server sent, once it closed the connection. */
    closed: within(closed, 5000, 'the server to close the raw connection'),
  }
}

/** Splits what a raw connection received into responses; enough for the small bodies used here. */
function responses (text: string): { head: string, body: string }[] {
  return text.split(/(?=HTTP\/1\.1 \d{3} )/).map((part) => {
    const end = part.indexOf('\r\n\r\n')
    return { head: part.slice(0, end).toLowerCase(), body: part.slice(end + 4) }
  })
}

describe.each(majors)('$name', ({ express, major }) => {
  const teardown: (() => unknown)[] = []
  afterEach(async () => {
    for (const step of teardown.splice(0).reverse()) await step()
  })

  function keepAliveAgent (): http.Agent {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    teardown.push(() => agent.destroy())
    return agent
  }

  interface Started {
    g: GracefulMiddleware
    app: Express
    server: Server
    port: number
    errors: unknown[]
    /** Opens held `/slow` and `/fail-later` requests. */
    release: Deferred
    /** Resolves when a `/slow` or `/fail-later` request reached its route. */
    arrived: Deferred
    /** Ends held `/stream` responses. */
    endStream: Deferred
    closeEvents: () => number
  }

  /** The app a user writes: `g` first, routes, a 4-argument error handler last. */
  function build (options: GracefulExpressOptions = {}, between?: (app: Express, g: GracefulMiddleware) => void) {
    const g = graceful({ ...inProcess, ...options })
    teardown.push(() => g.graceful.force('teardown'))
    const errors: unknown[] = []
    const release = deferred()
    const arrived = deferred()
    const endStream = deferred()
    const app = express()
    app.use(g)
    between?.(app, g)
    app.get('/fast', (_req, res) => { res.type('text/plain').send('fast') })
    app.get('/slow', (_req, res, next) => {
      arrived.resolve()
      release.promise.then(() => res.type('text/plain').send('slow')).catch(next)
    })
    app.get('/stream', (_req, res, next) => {
      res.type('text/plain').status(200)
      res.write('start\n')
      endStream.promise.then(() => res.end('end\n')).catch(next)
    })
    app.get('/boom', () => { throw new Error('boom') })
    if (major === 5) {
      // Express 5 forwards the rejection of an async handler to the error handler.
      app.get('/fail-later', async () => {
        arrived.resolve()
        await release.promise
        throw new Error('late')
      })
    } else {
      app.get('/fail-later', (_req, _res, next) => {
        arrived.resolve()
        release.promise.then(() => { throw new Error('late') }).catch(next)
      })
    }
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      errors.push(error)
      res.status(500).type('text/plain').send('error')
    }
    app.use(onError)
    return { g, app, errors, release, arrived, endStream }
  }

  function track (server: Server): Server {
    teardown.push(async () => {
      server.closeAllConnections()
      if (server.listening) await new Promise((resolve) => server.close(resolve))
    })
    return server
  }

  async function start (options: GracefulExpressOptions = {}, between?: (app: Express, g: GracefulMiddleware) => void): Promise<Started> {
    const built = build(options, between)
    let closes = 0
    const server = track(built.g.listen(built.app, 0, '127.0.0.1'))
    server.on('close', () => closes++)
    await within(new Promise((resolve) => server.once('listening', resolve)), 5000, 'listening')
    return { ...built, server, port: (server.address() as AddressInfo).port, closeEvents: () => closes }
  }

  test('is a named 3-argument middleware carrying the core handle', async () => {
    const { g } = await start()
    expect(g.name).toBe('gracefulMiddleware')
    expect(g.length).toBe(3)
    expect(g.state).toBe('accepting')
    expect(g.graceful.attached).toBe(1)
    expect(g.signal.aborted).toBe(false)
  })

  test('answers liveness and readiness itself: GET, HEAD, query strings; other methods pass on', async () => {
    const { port } = await start()
    const live = await sendRequest(port, '/livez')
    expect(live.status).toBe(200)
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' })
    expect(live.headers['cache-control']).toBe('no-store')
    const ready = await sendRequest(port, '/readyz?probe=kubelet')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' })
    const head = await sendRequest(port, '/readyz', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect((await sendRequest(port, '/readyz', { method: 'POST' })).status).toBe(404)
    expect((await sendRequest(port, '/fast')).body).toBe('fast')
  })

  test('an in-flight request completes with Connection: close on its keep-alive connection', async () => {
    const { g, port, release, arrived, closeEvents } = await start()
    const agent = keepAliveAgent()
    expect((await sendRequest(port, '/fast', { agent })).headers.connection).toBe('keep-alive')
    const slow = sendRequest(port, '/slow', { agent })
    await within(arrived.promise, 5000, '/slow to arrive')
    const summary = g.shutdown()
    expect(g.state).toBe('draining')
    expect(g.signal.aborted).toBe(true)
    release.resolve()
    const reply = await slow
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('slow')
    expect(reply.headers.connection).toBe('close')
    const result = await within(summary, 5000, 'the shutdown')
    expect(result.outcome).toBe('clean')
    expect(result.requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
    expect(g.state).toBe('closed')
    expect(closeEvents()).toBe(1)
  })

  test('a new request on a kept-alive connection gets the draining 503, not the error handler', async () => {
    const { g, port, server, endStream, errors } = await start()
    const raw = await rawConnection(port)
    const pipelined = { fast: deferred() }
    server.on('request', (req: http.IncomingMessage) => {
      if (req.url === '/fast') pipelined.fast.resolve()
    })
    raw.send('/stream')
    await raw.received('start\n')
    const summary = g.shutdown()
    // Pipelined behind the stream, on the connection that was open before the drain.
    raw.send('/fast')
    await within(pipelined.fast.promise, 5000, 'the pipelined request to arrive')
    endStream.resolve()
    const [stream, rejected] = responses(await raw.closed)
    expect(stream?.head).toMatch(/^http\/1\.1 200 /)
    expect(rejected?.head).toMatch(/^http\/1\.1 503 /)
    expect(rejected?.head).toContain('connection: close')
    expect(rejected?.head).toContain('retry-after: 1')
    expect(rejected?.head).toContain('content-type: application/json')
    expect(JSON.parse(rejected?.body ?? '')).toMatchObject({ statusCode: 503, code: 'ERR_GRACEFUL_DRAINING' })
    expect(errors).toEqual([])
    expect((await within(summary, 5000, 'the shutdown')).requests.rejected).toBe(1)
  })

  test('while draining, health probes on an open connection are still answered, not rejected', async () => {
    const { g, port, server, endStream } = await start()
    const [first, second] = [await rawConnection(port), await rawConnection(port)]
    const arrivals = { '/readyz': deferred(), '/livez': deferred() }
    server.on('request', (req: http.IncomingMessage) => arrivals[req.url as keyof typeof arrivals]?.resolve())
    first.send('/stream')
    second.send('/stream')
    await first.received('start\n')
    await second.received('start\n')
    const summary = g.shutdown()
    first.send('/readyz')
    second.send('/livez')
    await within(Promise.all([arrivals['/readyz'].promise, arrivals['/livez'].promise]), 5000, 'the probes to arrive')
    endStream.resolve()
    const readiness = responses(await first.closed)[1]
    const liveness = responses(await second.closed)[1]
    expect(readiness?.head).toMatch(/^http\/1\.1 503 /)
    expect(JSON.parse(readiness?.body ?? '')).toEqual({ status: 'draining' })
    expect(liveness?.head).toMatch(/^http\/1\.1 200 /)
    expect(liveness?.head).toContain('connection: close')
    expect((await within(summary, 5000, 'the shutdown')).requests.rejected).toBe(0)
  })

  test('during readinessDelay: readiness 503, requests served with Connection: close, errors reach the error handler', async () => {
    // A delay far longer than the test: nothing here races it. force() ends it.
    const { g, port, errors } = await start({ readinessDelay: 10_000, timeout: 20_000 })
    const summary = g.shutdown()
    const ready = await sendRequest(port, '/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    expect((await sendRequest(port, '/livez')).status).toBe(200)
    const fast = await sendRequest(port, '/fast', { agent: keepAliveAgent() })
    expect(fast.body).toBe('fast')
    expect(fast.headers.connection).toBe('close')
    const boom = await sendRequest(port, '/boom')
    expect(boom.status).toBe(500)
    expect(boom.headers.connection).toBe('close')
    expect(errors).toMatchObject([{ message: 'boom' }])
    expect(g.state).toBe('draining')
    expect(g.signal.aborted).toBe(false)
    void g.graceful.force('test')
    expect((await within(summary, 5000, 'the shutdown')).outcome).toBe('forced')
  })

  test(`a route failing during the drain reaches the 4-argument error handler (${major === 5 ? 'rejected promise' : 'next(err)'})`, async () => {
    const { g, port, release, arrived, errors } = await start()
    const failing = sendRequest(port, '/fail-later', { agent: keepAliveAgent() })
    await within(arrived.promise, 5000, '/fail-later to arrive')
    const summary = g.shutdown()
    release.resolve()
    const reply = await failing
    expect(reply.status).toBe(500)
    expect(reply.body).toBe('error')
    expect(reply.headers.connection).toBe('close')
    expect(errors).toMatchObject([{ message: 'late' }])
    expect((await within(summary, 5000, 'the shutdown')).outcome).toBe('clean')
  })

  test('listen() passes its arguments to app.listen() and attaches the server', async () => {
    const { g, app } = build()
    const listening = deferred()
    const server = track(g.listen(app, { port: 0, host: '127.0.0.1' }, () => listening.resolve()))
    expect(g.graceful.attached).toBe(1)
    await within(listening.promise, 5000, 'the listen callback')
    expect(g.graceful.ready).toBe(true)
    const port = (server.address() as AddressInfo).port
    expect((await sendRequest(port, '/readyz')).status).toBe(200)
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
    teardown.push(() => process.off('warning', onWarning))
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const { g, app } = build({ logger })
    const server = track(http.createServer(app))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port

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
    const { g, app } = build()
    const noWarnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    teardown.push(() => noWarnings.mockRestore())
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
    const { port } = await start({ answerHealth: false, health: { liveness: '/internal/livez', readiness: '/internal/readyz' } }, (app, g) => {
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
    const get = (path: string, headers: Record<string, string> = {}) => sendRequest(port, path, { headers })
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

  test('readiness checks decide readiness, without leaking errors', async () => {
    let healthy = true
    const { port } = await start({ health: { checks: { db: () => { if (!healthy) throw new Error('ECONNREFUSED 10.0.0.7') } } } })
    expect((await sendRequest(port, '/readyz')).status).toBe(200)
    healthy = false
    const failing = await sendRequest(port, '/readyz')
    expect(failing.status).toBe(503)
    expect(failing.body).not.toContain('ECONNREFUSED')
  })

  test('hooks and tasks go through the delegates', async () => {
    const order: string[] = []
    const { g, port } = await start()
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
