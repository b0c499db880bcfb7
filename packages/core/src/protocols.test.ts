import { readFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { type AddressInfo, connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { afterTest, deferred, h2cSession, http2Reply, inProcessGraceful, patience, within } from '@graceful/test-kit'
import { createGraceful } from './graceful.js'
import type { Graceful } from './types/handle.js'

const tls = {
  key: readFileSync(new URL('./test-fixtures/key.pem', import.meta.url)),
  cert: readFileSync(new URL('./test-fixtures/cert.pem', import.meta.url)),
}

function listen (server: { listen: (port: number, host: string, cb: () => void) => unknown, address: () => unknown }): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
}

describe('HTTP/2', () => {
  it('sends GOAWAY and lets the open stream complete', async () => {
    const g = inProcessGraceful()
    const held = deferred()
    const server = http2.createServer(g.handler((req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      if (req.url === '/slow') void held.promise.then(() => res.end('slow'))
      else res.end('fast')
    }))
    g.attach(server)
    const client = await h2cSession(server)
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()))
    const reply = http2Reply(client.request({ ':path': '/slow' }))
    await vi.waitFor(() => expect(g.stats().inFlight === 1 && g.stats().sessions === 1, 'the stream to arrive').toBe(true), patience)

    const summary = g.shutdown()
    await within(goaway, 5000, 'GOAWAY')
    expect(g.stats().inFlight).toBe(1)
    held.resolve()
    const { status, body } = await within(reply, 5000, 'the stream to end')
    expect(status).toBe(200)
    expect(body).toBe('slow')
    const result = await within(summary, 5000, 'the summary')
    expect(result.outcome).toBe('clean')
    expect(result.requests.completed).toBe(1)
    expect(g.stats().sessions).toBe(0)
  })

  it('serves the stream that races the first GOAWAY on a compatibility-API server, never a 503', async () => {
    const g = inProcessGraceful()
    const server = http2.createServer(g.handler((req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      res.end(`served ${req.method} ${req.url}`)
    }))
    g.attach(server)
    const client = await h2cSession(server)
    client.on('error', () => {})
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    // Same tick: the client's HEADERS and the server's first GOAWAY cross on the wire.
    const summary = g.shutdown()
    const stream = client.request({ ':path': '/racing', ':method': 'POST' })
    stream.end('body')
    const response = within(http2Reply(stream), 5000, 'the response')
    expect(await response).toEqual({ status: 200, body: 'served POST /racing' })
    expect((await within(summary, 5000, 'the summary')).requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
  })

  it('answers a stream not started at the deadline with the 503, without a Connection header', async () => {
    const g = inProcessGraceful({ timeout: 600, releaseTimeout: 100 })
    const server = http2.createServer(g.handler(() => {}))
    g.attach(server)
    const client = await h2cSession(server)
    client.on('error', () => {})
    const stream = client.request({ ':path': '/held' })
    const headers = within(new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.on('response', resolve)
      stream.on('error', reject)
    }), 5000, 'the response')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the stream to arrive').toBe(1), patience)
    const summary = g.shutdown()
    const answer = await headers
    expect(answer[':status']).toBe(503)
    expect(answer.connection).toBeUndefined()
    expect(answer['retry-after']).toBe('1')
    stream.destroy()
    expect((await within(summary, 5000, 'the summary')).cut).toEqual([expect.objectContaining({ url: '/held', action: 'rejected' })])
  })
})

describe('HTTPS', () => {
  it('ends idle TLS keep-alive sockets and completes the in-flight request', async () => {
    const g = inProcessGraceful()
    const held = deferred()
    const server = https.createServer(tls, g.handler((req, res) => {
      if (req.url === '/slow') void held.promise.then(() => res.end('slow'))
      else res.end('fast')
    }))
    g.attach(server)
    const port = await listen(server)
    afterTest(() => server.close())
    // Two agents, so the idle connection and the busy one are different sockets.
    const idleAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false })
    const busyAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false })
    afterTest(() => idleAgent.destroy(), () => busyAgent.destroy())
    const get = (path: string, agent: https.Agent) => new Promise<{ status: number, connection?: string, body: string, socket: Socket }>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        const socket = res.socket
        let body = ''
        res.on('data', (chunk: Buffer) => { body += chunk.toString() })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, socket }))
      }).on('error', reject)
    })
    const fast = await get('/fast', idleAgent)
    const idleClosed = new Promise<void>((resolve) => fast.socket.once('close', () => resolve()))
    const slow = get('/slow', busyAgent)
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request').toBe(1), patience)

    const summary = g.shutdown()
    await within(idleClosed, 5000, 'the idle TLS socket to close')
    held.resolve()
    const res = await slow
    expect(res).toMatchObject({ status: 200, body: 'slow', connection: 'close' })
    expect((await within(summary, 5000, 'summary')).outcome).toBe('clean')
  })
})

describe('upgraded sockets', () => {
  async function upgradeServer (g: Graceful, serverSockets: Duplex[] = []) {
    const server = http.createServer(g.handler((_req, res) => res.end('plain')))
    g.attach(server)
    // The application handles upgrades after attach: tracking starts then.
    server.on('upgrade', (_req, socket) => {
      serverSockets.push(socket)
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
      socket.on('data', (data) => socket.write(data))
    })
    const port = await listen(server)
    afterTest(() => server.close())
    const client = connect({ port, host: '127.0.0.1' })
    afterTest(() => client.destroy())
    client.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    await within(new Promise((resolve) => client.once('data', resolve)), 5000, '101')
    await vi.waitFor(() => expect(g.stats().upgraded, 'the upgrade to be tracked').toBe(1), patience)
    return client
  }

  it('waits for upgraded sockets that the notify hook closes', async () => {
    const g = inProcessGraceful()
    const sockets: Duplex[] = []
    // What a WebSocket server does here: send close 1001 "going away", the peer closes.
    g.onDraining(() => { for (const socket of sockets) socket.end() }, { name: 'close websockets' })
    const client = await upgradeServer(g, sockets)
    client.on('end', () => client.end())
    const summary = await within(g.shutdown(), 5000, 'summary')
    expect(summary.outcome).toBe('clean')
    expect(summary.hooks).toEqual([expect.objectContaining({ name: 'close websockets', kind: 'notify', status: 'ok' })])
  })

  it('destroys upgraded sockets at the deadline and says they held the drain', async () => {
    const g = inProcessGraceful({ timeout: 500, releaseTimeout: 100 })
    const client = await upgradeServer(g)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const summary = await within(g.shutdown(), 5000, 'summary')
    await within(closed, 5000, 'the upgraded socket to be destroyed')
    expect(summary.outcome).toBe('cut')
    expect(summary.holding).toEqual(['1 upgraded socket(s) (WebSocket?)'])
  })
})

describe('several servers and readiness', () => {
  it('is ready only when every attached server listens, and closes them all', async () => {
    const g = inProcessGraceful()
    const app = http.createServer(g.handler((_req, res) => res.end('app')))
    const metrics = http.createServer(g.handler((_req, res) => res.end('metrics')))
    g.attach(app)
    g.attach(metrics)
    expect(g.ready).toBe(false)
    expect((await g.readiness()).statusCode).toBe(503)
    await listen(app)
    expect(g.ready).toBe(false)
    await listen(metrics)
    expect(g.ready).toBe(true)
    expect(JSON.parse((await g.readiness()).body)).toEqual({ status: 'ready' })
    await within(g.shutdown(), 5000, 'summary')
    expect(app.listening).toBe(false)
    expect(metrics.listening).toBe(false)
    expect(g.ready).toBe(false)
    expect(JSON.parse((await g.readiness()).body)).toEqual({ status: 'draining' })
  })

  it("with readyWhen: 'manual', waits for markReady()", async () => {
    const g = inProcessGraceful({ readyWhen: 'manual' })
    const server = http.createServer()
    g.attach(server)
    await listen(server)
    afterTest(() => server.close())
    expect(g.ready).toBe(false)
    expect(JSON.parse((await g.readiness()).body)).toEqual({ status: 'starting' })
    g.markReady()
    expect(g.ready).toBe(true)
  })

  it('runs readiness checks under a timeout and hides their errors unless asked', async () => {
    const checks = {
      db: () => Promise.reject(new Error('password authentication failed for user "app"')),
      cache: () => new Promise(() => {}),
      queue: () => true,
    }
    const quiet = inProcessGraceful({ readyWhen: 'manual', health: { checks, checkTimeout: 50 } })
    quiet.markReady()
    const answer = await within(quiet.readiness(), 5000, 'readiness')
    expect(answer.statusCode).toBe(503)
    expect(answer.body).toBe('{"status":"unavailable"}')

    const detailed = inProcessGraceful({ readyWhen: 'manual', health: { checks, checkTimeout: 50, detail: true } })
    detailed.markReady()
    expect(JSON.parse((await within(detailed.readiness(), 5000, 'readiness')).body)).toEqual({
      status: 'unavailable',
      checks: { db: 'error: password authentication failed for user "app"', cache: 'timeout after 50 ms', queue: 'ok' },
    })
  })
})

describe('signal ownership', () => {
  it('installs one listener per signal however many instances exist, and removes it with the last', async () => {
    const before = process.listenerCount('SIGUSR2')
    const a = createGraceful({ signals: ['SIGUSR2'], exit: false })
    const b = createGraceful({ signals: ['SIGUSR2'], exit: false })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    await a.shutdown()
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    await b.shutdown()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })
})

describe('readinessDelay', () => {
  it('is skipped when no attached server listens: nothing could route traffic here', async () => {
    const g = inProcessGraceful({ readinessDelay: 60_000, timeout: 120_000 })
    g.attach(http.createServer())
    const summary = await within(g.shutdown(), 5000, 'summary')
    expect(summary.durations.readinessDelay).toBeLessThan(1000)
  })
})
