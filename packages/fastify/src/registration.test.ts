// A failed registration leaves nothing behind; prefixes
// move the health routes and the gate with them; a server Fastify did not create.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { deferred, disposeAfterTest, openConnection, patience, tryConnect, within } from '@graceful/test-kit'
import graceful from './index.js'
import { heldRoutes, startApp } from './test-helpers.js'

/** Every process listener graceful could own. */
function listeners (): Record<string, number> {
  return Object.fromEntries(['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection'].map((event) => [event, process.listenerCount(event)]))
}

describe('a failed registration leaves nothing behind', () => {
  it('refuses a second registration with an error of ours; app.close() then releases the signals of the first', async () => {
    const before = listeners()
    const app = Fastify()
    await app.register(graceful, { handleFatalErrors: true })
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(before.SIGTERM ?? 0)
    await expect(app.register(graceful, { handleFatalErrors: true })).rejects.toMatchObject({
      name: 'GracefulError', code: 'ERR_GRACEFUL_ALREADY_REGISTERED',
    })
    await app.close()
    expect(listeners()).toEqual(before)
  })

  it('takes no signal when a health route clashes with an existing route', async () => {
    const before = listeners()
    const app = Fastify()
    app.get('/livez', async () => 'mine')
    await expect(app.register(graceful, { handleFatalErrors: true })).rejects.toMatchObject({ code: 'FST_ERR_DUPLICATED_ROUTE' })
    expect(listeners(), 'before app.close()').toEqual(before)
    await app.close()
    expect(listeners()).toEqual(before)
  })

  it('takes no signal on a bad option, a bad Fastify option included', async () => {
    const before = listeners()
    for (const options of [{ timeout: -1 }, { logLevel: 'loud' }, { healthRoutes: { hide: 'yes' } }, { healthRoutes: { logLevel: 'loud' } }, { prefix: 'v1' }]) {
      const app = Fastify({ logger: { level: 'info' } })
      const option = Object.keys(options)[0] === 'healthRoutes' ? `healthRoutes.${Object.keys(Object.values(options)[0] as object)[0]}` : Object.keys(options)[0]
      await expect(app.register(graceful, options as never), option).rejects.toMatchObject({ code: 'ERR_GRACEFUL_INVALID_OPTION', option })
      await app.close()
    }
    expect(listeners()).toEqual(before)
  })
})

describe('prefixes: the health routes and the gate agree', () => {
  /** A request pipelined behind a held response, so the gate sees it during the drain. */
  async function duringDrain (app: FastifyInstance<RawServerBase>, port: number, held: ReturnType<typeof heldRoutes>, path: string, stream = '/stream') {
    await using c = await openConnection(port)
    const before = c.bytesReceived
    c.send(stream)
    await vi.waitFor(() => expect(c.bytesReceived, 'the stream to start').toBeGreaterThan(before), patience)
    const shutdown = app.graceful.shutdown()
    await vi.waitFor(() => expect(app.graceful.stats().state, 'draining').toBe('draining'), patience)
    c.send(path)
    await vi.waitFor(() => expect(app.graceful.stats().inFlight, 'the pipelined request to reach the server').toBe(2), patience)
    held.stream.resolve()
    expect((await c.response()).status).toBe(200)
    const answer = await c.response()
    await within(shutdown, 5000, 'shutdown')
    return answer
  }

  it('register(graceful, { prefix }) serves /v1/livez and /v1/readyz, and lets them through the drain', async () => {
    const held = heldRoutes()
    const t = await startApp({ prefix: '/v1' } as never, held.routes)
    disposeAfterTest(t)
    expect(t.app.graceful.options.health).toMatchObject({ liveness: '/v1/livez', readiness: '/v1/readyz' })
    await using c = await openConnection(t.port)
    expect(await c.request('/v1/livez')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect(await c.request('/v1/readyz')).toMatchObject({ status: 200, body: '{"status":"ready"}' })
    expect((await c.request('/livez')).status).toBe(404)
    // Liveness stays 200 through the drain: a kubelet must not restart a draining pod.
    expect(await duringDrain(t.app, t.port, held, '/v1/livez')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
  })

  it('follows the prefix of the encapsulated context it is registered in, plus its own', async () => {
    const held = heldRoutes()
    const app = Fastify()
    disposeAfterTest({ [Symbol.asyncDispose]: async () => { await inner?.graceful.force('dispose'); await app.close() } })
    let inner: FastifyInstance<RawServerBase> | undefined
    await app.register(async (child) => {
      await child.register(graceful, { signals: false, exit: false, prefix: '/ops', health: { readiness: '/ready' } })
      held.routes(child as never)
      inner = child as never
    }, { prefix: '/api' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    const g = inner!.graceful
    expect(g.options.health).toMatchObject({ liveness: '/api/ops/livez', readiness: '/api/ops/ready' })
    await using c = await openConnection(port)
    expect((await c.request('/api/ops/livez')).status).toBe(200)
    expect((await c.request('/api/ops/ready')).status).toBe(200)
    expect(await duringDrain(inner!, port, held, '/api/ops/ready?probe=1', '/api/stream'))
      .toMatchObject({ status: 503, body: '{"status":"draining"}' })
  })
})

describe('serverFactory: a server Fastify did not create', () => {
  function factoryApp () {
    let server: Server | undefined
    const app = Fastify({
      serverFactory: (handler) => {
        server = createServer((req: IncomingMessage, res: ServerResponse) => { handler(req, res) })
        return server
      },
    })
    return { app, server: () => server! }
  }

  for (const trigger of ['app.close()', 'app.graceful.shutdown()'] as const) {
    it(`is drained and closed by ${trigger} when the user listens on it`, async () => {
      const { app, server } = factoryApp()
      const slow = deferred()
      await app.register(graceful, { signals: false, exit: false })
      app.get('/slow', async () => { await slow.promise; return 'slow' })
      await app.ready()
      // The user listens on the server themselves, not through app.listen().
      await new Promise<void>((resolve) => server().listen(0, '127.0.0.1', resolve))
      const port = (server().address() as AddressInfo).port
      disposeAfterTest({ [Symbol.asyncDispose]: async () => { server().close(); await app.close() } })

      await using c = await openConnection(port)
      expect((await c.request('/readyz')).status).toBe(200)
      await using busy = await openConnection(port)
      busy.send('/slow')
      await vi.waitFor(() => expect(app.graceful.stats().inFlight, 'the request in flight').toBe(1), patience)
      const closing = trigger === 'app.close()' ? app.close() : app.graceful.shutdown()
      await within(c.ended, 5000, 'the FIN on the idle connection')
      expect(await tryConnect(port)).toBe('ECONNREFUSED')
      slow.resolve()
      expect(await busy.response()).toMatchObject({ status: 200, body: 'slow' })
      await within(closing, 5000, trigger)
      expect(server().listening).toBe(false)
    })
  }
})
