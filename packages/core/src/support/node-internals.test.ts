import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import http2 from 'node:http2'
import { Socket, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { afterTest, listening, sendRequest, within } from '@graceful/test-kit'
import { createGraceful } from '../graceful.js'
import {
  canReadCurrentResponse, closeAfterNextRequest, connectionsCheckingTimer, currentResponse, listeningDescriptor, loopTime, msSinceActivity,
  sessionSocket, writtenHeader,
} from './node-internals.js'

// These fail on the Node release that changes a private field graceful reads
// (run on every Node of the matrix: .ci/node-matrix.sh); graceful then falls
// back (node-internals-fallback.test.ts), slower or less precise.
describe('what graceful reads from Node', () => {
  it('creating and attaching publishes nothing on node:http\'s diagnostics channels (APM agents listen there)', async () => {
    const seen: string[] = []
    const names = ['http.server.response.created', 'http.server.request.start', 'http.server.response.finish', 'http.client.request.created']
    const subscribers = names.map((name) => [name, () => seen.push(name)] as const)
    for (const [name, onMessage] of subscribers) diagnostics.subscribe(name, onMessage)
    afterTest(() => { for (const [name, onMessage] of subscribers) diagnostics.unsubscribe(name, onMessage) })
    const graceful = createGraceful({ signals: false, exit: false, logger: false })
    graceful.attach(http.createServer())
    expect(canReadCurrentResponse()).toBe(true)
    await graceful.shutdown()
    expect(seen).toEqual([])
  })

  it('finds the response a connection is writing (socket._httpMessage) and its keep-alive timer', async () => {
    let socket: Socket | undefined
    let during: unknown
    let head: string | undefined
    const server = http.createServer((req, res) => {
      socket = req.socket
      during = currentResponse(req.socket) === res
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      head = writtenHeader(res, 'content-type')
      res.end('ok')
    }).listen(0, '127.0.0.1')
    await using app = await listening(server)
    const agent = new http.Agent({ keepAlive: true })
    afterTest(() => agent.destroy())
    await sendRequest(app.port, '/', { agent })
    expect(during).toBe(true)
    expect(head?.trim()).toBe('text/event-stream')
    expect(currentResponse(socket!)).toBeNull()
    // The keep-alive timer node:http armed after the response tells how long the connection has been idle.
    const since = msSinceActivity(socket!, loopTime())
    expect(since).not.toBeNull()
    expect(since).toBeGreaterThanOrEqual(0)
    expect(since).toBeLessThan(5000)
  })

  it('finds a listening server\'s descriptor (_handle.fd) and its connections-checking interval', async () => {
    await using app = await listening(http.createServer().listen(0, '127.0.0.1'))
    expect(listeningDescriptor(app.server)).toBeGreaterThan(2)
    expect(connectionsCheckingTimer(app.server)).toHaveProperty('hasRef')
    expect(listeningDescriptor(new Socket())).toBe(-1)
  })

  it('finds the socket under an HTTP/2 session (kSocket)', async () => {
    const server = http2.createServer()
    const session = new Promise<http2.ServerHttp2Session>((resolve) => server.once('session', resolve))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterTest(() => server.close())
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    afterTest(() => client.destroy())
    const underlying = sessionSocket(await within(session, 5000, 'the session'))
    expect(underlying).toBeInstanceOf(Socket)
    expect((underlying as Socket).remotePort).toBe((client.socket).localPort)
  })

  it('answers the next request as if the client sent Connection: close (socket.parser.onIncoming)', async () => {
    let hooked: boolean | undefined
    const server = http.createServer((_req, res) => { res.end('ok') })
    server.on('connection', (socket: Socket) => { hooked ??= closeAfterNextRequest(socket) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const agent = new http.Agent({ keepAlive: true })
      const connection = await within(new Promise<string | undefined>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent }, (res) => { res.resume(); res.on('end', () => resolve(res.headers.connection)) }).on('error', reject)
      }), 5000, 'the response')
      agent.destroy()
      expect(hooked).toBe(true)
      expect(connection).toBe('close')
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})
