import http from 'node:http'
import http2 from 'node:http2'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { afterTest, deferred, inProcessGraceful, listening, serveWebSockets, within } from '@graceful/test-kit'
import { createConnectionAges, jittered } from './connection-age.js'
import type { Graceful } from '../types/handle.js'
import { resolveOptions } from '../options/options.js'

async function serve (g: Graceful | null, handler: http.RequestListener = (_req, res) => { res.end('ok') }) {
  const server = http.createServer(g ? g.handler(handler) : handler)
  g?.attach(server)
  server.listen(0, '127.0.0.1')
  const resource = await listening(server)
  afterTest(() => resource[Symbol.asyncDispose]())
  return { server, port: resource.port }
}

/** A keep-alive loop over one pooled connection: each reply's status, connection header and local port. */
async function loop (port: number, ms: number, pauseMs = 5) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  afterTest(() => agent.destroy())
  const replies: { status: number, connection: string | undefined, port: number }[] = []
  const end = Date.now() + ms
  while (Date.now() < end) {
    replies.push(await within(new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, agent }, (res) => {
        const local = res.socket.localPort ?? 0
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, port: local }))
      }).on('error', reject)
    }), 5000, 'a request'))
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return replies
}

/** One raw keep-alive connection that sent one request and read its response. */
async function idleConnection (port: number): Promise<{ socket: Socket, ended: Promise<string> }> {
  const socket = connect(port, '127.0.0.1')
  afterTest(() => socket.destroy())
  let received = ''
  const first = deferred()
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (error) => resolve(`error ${error.message}`))
    socket.on('end', () => resolve('end'))
  })
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString()
    if (received.includes('\r\n\r\nok')) first.resolve()
  })
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n')
  await within(first.promise, 5000, 'the first response')
  return { socket, ended }
}

describe('maxConnectionAge', () => {
  it('moves a busy pooled keep-alive client to new connections, never failing a request', async () => {
    const g = inProcessGraceful({ maxConnectionAge: 200, maxConnectionAgeJitter: 0.2 })
    const { port } = await serve(g)
    const replies = await loop(port, 1500)
    expect(replies.every((reply) => reply.status === 200)).toBe(true)
    // Each connection's last response said so; the client then opened a new one.
    const ports = new Set(replies.map((reply) => reply.port))
    expect(ports.size).toBeGreaterThanOrEqual(3)
    expect(replies.filter((reply) => reply.connection === 'close').length).toBeGreaterThanOrEqual(ports.size - 1)
  })

  // Without the hook, a connection is closed in an idle gap of 1 s, or when its
  // response has not started yet: slower under back-to-back traffic.
  it('does the same without the parser hook (a Node where it is gone), in idle gaps', async () => {
    let phase = 'accepting'
    const ages = createConnectionAges({ age: 200, jitter: 0.2, grace: null }, () => phase === 'accepting', () => false)
    afterTest(() => { phase = 'closed' })
    const { server, port } = await serve(null)
    server.on('connection', ages.http1)
    const replies = await loop(port, 3000, 1100)
    expect(replies.every((reply) => reply.status === 200)).toBe(true)
    expect(new Set(replies.map((reply) => reply.port)).size).toBeGreaterThanOrEqual(2)
  })

  it('closes an idle connection with a FIN at its age (once idle for 1 s), never a reset', async () => {
    const g = inProcessGraceful({ maxConnectionAge: 300, maxConnectionAgeJitter: 0 })
    const { port } = await serve(g)
    const started = Date.now()
    const { ended } = await idleConnection(port)
    expect(await within(ended, 5000, 'the FIN')).toBe('end')
    expect(Date.now() - started).toBeGreaterThanOrEqual(990)
  })

  it('lets the request in flight finish, with Connection: close; a grace cuts what outlives it', async () => {
    const held = deferred()
    const g = inProcessGraceful({ maxConnectionAge: 100, maxConnectionAgeJitter: 0 })
    const { port } = await serve(g, (_req, res) => { void held.promise.then(() => res.end('late')) })
    const reply = new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, agent: new http.Agent({ keepAlive: true }) }, resolve).on('error', reject)
    })
    await new Promise((resolve) => setTimeout(resolve, 400))
    held.resolve()
    const res = await within(reply, 5000, 'the response')
    expect(res.statusCode).toBe(200)
    expect(res.headers.connection).toBe('close')
    res.resume()

    const never = deferred()
    afterTest(() => never.resolve())
    const cutter = inProcessGraceful({ maxConnectionAge: 100, maxConnectionAgeJitter: 0, maxConnectionAgeGrace: 100 })
    const { port: cutPort } = await serve(cutter, (_req, res) => { void never.promise.then(() => res.end()) })
    const cut = new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: cutPort, agent: false }, () => resolve('response')).on('error', (error) => resolve(error.message))
    })
    expect(await within(cut, 5000, 'the cut')).toBe('socket hang up')
  })

  it('sends an HTTP/2 session the GOAWAY at its age; its open stream completes', async () => {
    const held = deferred()
    const g = inProcessGraceful({ maxConnectionAge: 150, maxConnectionAgeJitter: 0 })
    const server = http2.createServer(g.handler((_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => { void held.promise.then(() => res.end('done')) }))
    g.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterTest(() => new Promise((resolve) => server.close(resolve)))
    const client = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`)
    afterTest(() => client.destroy())
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()))
    const stream = client.request({ ':path': '/' })
    let body = ''
    stream.on('data', (chunk: Buffer) => { body += chunk.toString() })
    const ended = new Promise((resolve) => stream.on('end', resolve))
    await within(goaway, 5000, 'GOAWAY')
    held.resolve()
    await within(ended, 5000, 'the stream')
    expect(body).toBe('done')
  })

  it('leaves upgraded sockets (WebSockets) alone', async () => {
    const g = inProcessGraceful({ maxConnectionAge: 100, maxConnectionAgeJitter: 0 })
    const { server, port } = await serve(g)
    const wss = serveWebSockets(g, server)
    afterTest(() => wss.close())
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    afterTest(() => client.terminate())
    let closed = false
    client.on('close', () => { closed = true })
    await within(new Promise((resolve) => client.once('message', resolve)), 5000, 'hello')
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(closed).toBe(false)
    expect(client.readyState).toBe(WebSocket.OPEN)
  })

  it('is off by default; validates its options by name', () => {
    expect(resolveOptions({}).connectionAge).toBeNull()
    expect(resolveOptions({ maxConnectionAge: 60_000 }).connectionAge).toEqual({ age: 60_000, jitter: 0.1, grace: null })
    for (const [input, option] of [
      [{ maxConnectionAge: 0 }, 'maxConnectionAge'],
      [{ maxConnectionAge: -5 }, 'maxConnectionAge'],
      [{ maxConnectionAge: 1000, maxConnectionAgeJitter: 2 }, 'maxConnectionAgeJitter'],
      [{ maxConnectionAge: 1000, maxConnectionAgeGrace: Number.NaN }, 'maxConnectionAgeGrace'],
      [{ maxConnectionAgeGrace: 1000 }, 'maxConnectionAgeGrace'],
    ] as const) {
      expect(() => resolveOptions(input as never), option).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option }))
    }
    const ages = [0, 0.5, 0.999].map((r) => jittered({ age: 1000, jitter: 0.1, grace: null }, () => r))
    expect(ages).toEqual([900, 1000, 1100])
  })
})
