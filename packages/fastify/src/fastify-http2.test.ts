import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2'
import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { deferred, disposeAfterTest, patience, within } from '@graceful/test-kit'
import graceful from './index.js'
import { nextEvent, startApp } from './test-helpers.js'

/** An h2c client session; `goaway` resolves when the server sends GOAWAY. */
async function connectH2 (port: number): Promise<{ session: ClientHttp2Session, goaway: Promise<void> }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  await within(new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve())
    session.once('error', reject)
  }), 5000, 'the h2c session')
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()))
  disposeAfterTest({ [Symbol.asyncDispose]: async () => { session.destroy() } })
  return { session, goaway }
}

function get (session: ClientHttp2Session, path: string): { headers: Promise<IncomingHttpHeaders>, body: Promise<string> } {
  const stream = session.request({ ':path': path })
  const headers = new Promise<IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve)
    stream.once('error', reject)
  })
  const body = new Promise<string>((resolve, reject) => {
    let text = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => { text += chunk })
    stream.once('end', () => resolve(text))
    stream.once('error', reject)
  })
  headers.catch(() => {})
  body.catch(() => {})
  return { headers: within(headers, 5000, `response headers for ${path}`), body: within(body, 5000, `body of ${path}`) }
}

describe('HTTP/2 (h2c)', () => {
  it.each([
    { path: 'app.close()', forceCloseConnections: false },
    { path: 'app.close()', forceCloseConnections: true },
    { path: 'a signal', forceCloseConnections: false },
  ])('sends GOAWAY and lets the open stream complete, via $path (forceCloseConnections: $forceCloseConnections)', async ({ path, forceCloseConnections }) => {
    const slow = deferred()
    const entered = deferred()
    const t = await startApp({}, (app) => {
      app.get('/slow', async () => {
        entered.resolve()
        await slow.promise
        return 'slow'
      })
    }, { http2: true, forceCloseConnections })
    disposeAfterTest(t)
    const { session, goaway } = await connectH2(t.port)
    const ready = get(session, '/readyz')
    expect((await ready.headers)[':status']).toBe(200)
    await ready.body

    const inFlight = get(session, '/slow')
    await within(entered.promise, 5000, 'the slow stream')
    const drain = nextEvent(t.app.graceful, 'drain')
    const done: Promise<unknown> = path === 'app.close()' ? t.app.close() : t.app.graceful.shutdown('SIGTERM')
    await drain
    await within(goaway, 5000, 'GOAWAY')
    slow.resolve()
    const headers = await inFlight.headers
    expect(headers[':status']).toBe(200)
    expect(headers.connection).toBeUndefined()
    expect(await inFlight.body).toBe('slow')
    await within(done, 5000, path)
    expect((await t.app.graceful.shutdown()).outcome).toBe('clean')
    expect(t.onCloseRuns()).toBe(1)
  })

  it('serves the stream that races the first GOAWAY (a POST), never a 503', async () => {
    const t = await startApp({}, (app) => {
      app.post('/orders', async (request) => ({ created: request.body }))
    }, { http2: true })
    disposeAfterTest(t)
    const { session } = await connectH2(t.port)
    const warm = get(session, '/readyz')
    expect((await warm.headers)[':status']).toBe(200)
    await warm.body
    // Same tick: the client's HEADERS and the server's first GOAWAY cross on the wire.
    const summary = t.app.graceful.shutdown()
    const stream = session.request({ ':path': '/orders', ':method': 'POST', 'content-type': 'application/json' })
    stream.end(JSON.stringify({ id: 1 }))
    const status = within(new Promise<number>((resolve, reject) => {
      stream.once('response', (headers) => resolve(Number(headers[':status'])))
      stream.once('error', reject)
    }), 5000, 'the response')
    stream.resume()
    expect(await status).toBe(200)
    expect((await within(summary, 5000, 'the summary')).requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
  })

  it('answers a stream reaching the gate during the drain with a 503 without a Connection header', async () => {
    const hold = deferred()
    const app = Fastify({ http2: true }) as unknown as FastifyInstance<RawServerBase>
    // An earlier hook (auth, say) holds the request until the drain has begun.
    app.addHook('onRequest', async () => { await hold.promise })
    await app.register(graceful, { signals: false, exit: false, retryAfter: 3 })
    app.get('/fast', async () => 'fast')
    await app.listen({ port: 0, host: '127.0.0.1' })
    disposeAfterTest({ [Symbol.asyncDispose]: () => app.close() })
    const { session } = await connectH2((app.server.address() as { port: number }).port)

    const late = get(session, '/fast')
    await vi.waitFor(() => expect(app.graceful.stats().inFlight, 'the held stream').toBe(1), patience)
    const shutdown = app.graceful.shutdown()
    hold.resolve()
    const headers = await late.headers
    expect(headers[':status']).toBe(503)
    expect(headers.connection).toBeUndefined()
    expect(headers['retry-after']).toBe('3')
    expect(JSON.parse(await late.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect((await within(shutdown, 5000, 'shutdown')).requests.rejected).toBe(1)
  })
})
