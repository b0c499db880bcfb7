import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { within } from '@graceful/test-kit'
import { canReadCurrentResponse, closeAfterNextRequest, currentResponse, loopTime, msSinceActivity } from './node-internals.js'

// These fail the day a Node release changes the private fields graceful reads
// off the hot path; graceful then falls back (see node-internals.ts), slower.
describe('what graceful reads from node:http', () => {
  it('finds the response a connection is writing (socket._httpMessage), and none once it finished', async () => {
    expect(canReadCurrentResponse()).toBe(true)
    let socket: Socket | undefined
    let during: unknown
    const server = http.createServer((req, res) => {
      socket = req.socket
      during = currentResponse(req.socket) === res
      res.end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const agent = new http.Agent({ keepAlive: true })
      await within(new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
      }), 5000, 'the response')
      expect(during).toBe(true)
      expect(currentResponse(socket!)).toBeNull()
      // The keep-alive timer node:http armed after the response tells how long the connection has been idle.
      const since = msSinceActivity(socket!, loopTime())
      expect(since).not.toBeNull()
      expect(since).toBeGreaterThanOrEqual(0)
      expect(since).toBeLessThan(5000)
      agent.destroy()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
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
