import { once } from 'node:events'
import http from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { afterTest, inProcessGraceful } from '@graceful/test-kit'
import { WebSocket, WebSocketServer } from 'ws'
import type { WebSocketServerLike } from '../types/handle.js'

async function listening (server: http.Server): Promise<number> {
  if (!server.listening) await once(server, 'listening')
  afterTest(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as AddressInfo).port
}

/** A WebSocket client that completes the opening handshake and then never answers anything: no close frame back. */
async function deafClient (port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' })
  afterTest(() => socket.destroy())
  socket.on('error', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  const [head] = await once(socket, 'data') as [Buffer]
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /)
  return socket
}

describe('graceful.websockets()', () => {
  it('terminates a client that never completes the close handshake at the drain deadline, and says so', async () => {
    const g = inProcessGraceful({ timeout: 900, releaseTimeout: 200 })
    const server = http.createServer()
    g.attach(server)
    const wss = new WebSocketServer({ server })
    g.websockets(wss)
    const port = await listening(server.listen(0, '127.0.0.1'))
    const socket = await deafClient(port)
    await vi.waitFor(() => expect(wss.clients.size).toBe(1))

    const started = Date.now()
    const summary = await g.shutdown()
    expect(summary.outcome).toBe('cut')
    expect(summary.holding).toEqual(expect.arrayContaining(['task notify websockets']))
    await vi.waitFor(() => expect(socket.destroyed || socket.readableEnded).toBe(true))
    expect(wss.clients.size).toBe(0)
    // Cut at the drain deadline (700 ms), within the budget (wide margin).
    expect(Date.now() - started).toBeLessThan(2500)
  })

  it('refuses upgrades with the 503 on a ws server with its own port, which no attach() sees', async () => {
    const g = inProcessGraceful()
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    afterTest(() => new Promise((resolve) => wss.close(resolve)))
    await once(wss, 'listening')
    g.websockets(wss)
    const { port } = wss.address() as AddressInfo
    await g.shutdown()

    const client = new WebSocket(`ws://127.0.0.1:${port}/`)
    const [, res] = await once(client, 'unexpected-response') as [unknown, http.IncomingMessage]
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    res.destroy()
  })

  it('closes the clients of a server created with clientTracking: false (noServer mode)', async () => {
    const g = inProcessGraceful()
    const server = http.createServer()
    g.attach(server)
    const wss = new WebSocketServer({ noServer: true, clientTracking: false })
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req)))
    g.websockets(wss)
    const port = await listening(server.listen(0, '127.0.0.1'))
    const client = new WebSocket(`ws://127.0.0.1:${port}/`)
    await once(client, 'open')
    const closed = once(client, 'close')

    const summary = await g.shutdown()
    const [code, reason] = await closed as [number, Buffer]
    expect(code).toBe(1001)
    expect(reason.toString()).toBe('going away')
    expect(summary.outcome).toBe('clean')
  })

  it('takes a custom close code and reason, and rejects bad ones naming the option', () => {
    const g = inProcessGraceful()
    const wss = new WebSocketServer({ noServer: true })
    expect(() => g.websockets(wss, { code: 999 })).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'websockets.code' }))
    expect(() => g.websockets(wss, { reason: 'x'.repeat(124) })).toThrow(expect.objectContaining({ option: 'websockets.reason' }))
    expect(() => g.websockets({} as WebSocketServerLike)).toThrow(expect.objectContaining({ option: 'websockets' }))
    expect(() => g.websockets(wss, { code: 1012, reason: 'service restart' })).not.toThrow()
  })

  it('accepts a ws WebSocketServer as it is typed', () => {
    expectTypeOf<WebSocketServer>().toMatchTypeOf<WebSocketServerLike>()
  })
})
