import { readFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import type { Graceful } from '@graceful/core'
import { afterTest, inProcessGraceful, patience, within } from '@graceful/test-kit'

// WebSocket-like upgrades and HTTP/2 sessions under faults, on the core (the adapters share it).
const tls = {
  key: readFileSync(new URL('../../packages/core/src/test-fixtures/key.pem', import.meta.url)),
  cert: readFileSync(new URL('../../packages/core/src/test-fixtures/cert.pem', import.meta.url)),
}

async function upgraded (g: Graceful): Promise<{ client: Socket, serverSockets: Duplex[] }> {
  const serverSockets: Duplex[] = []
  const server = http.createServer(g.handler((_req, res) => res.end('plain')))
  g.attach(server)
  server.on('upgrade', (_req, socket) => {
    serverSockets.push(socket)
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  afterTest(() => server.close())
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' })
  afterTest(() => client.destroy())
  client.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
  await within(once(client, 'data'), 5000, '101')
  await vi.waitFor(() => expect(g.stats().upgraded, 'the upgrade to be tracked').toBe(1), patience)
  return { client, serverSockets }
}

describe('faults: upgraded sockets (WebSocket)', () => {
  it('a peer that ignores the close frame holds the drain only until the deadline', async () => {
    const g = inProcessGraceful({ timeout: 600, releaseTimeout: 150 })
    const { client, serverSockets } = await upgraded(g)
    g.onDraining(() => { for (const socket of serverSockets) socket.write('close 1001\n') }, { name: 'going away' })
    const closed = once(client, 'close')
    const summary = await within(g.shutdown(), 600 + 1500, 'the summary')
    await within(closed, 2000, 'the upgraded socket to be destroyed')
    expect(summary.outcome).toBe('cut')
    expect(summary.exitCode).toBe(124)
    expect(summary.hooks).toEqual([expect.objectContaining({ name: 'going away', kind: 'notify', status: 'ok' })])
    expect(summary.durations.total).toBeLessThan(600 + 500)
  })

  it('a notify hook that throws is reported; the sockets still go at the deadline; cut wins', async () => {
    const g = inProcessGraceful({ timeout: 600, releaseTimeout: 150 })
    const { client } = await upgraded(g)
    g.onDraining(() => { throw new Error('ws server gone') }, { name: 'websockets' })
    const closed = once(client, 'close')
    const summary = await within(g.shutdown(), 600 + 1500, 'the summary')
    await within(closed, 2000, 'the upgraded socket to be destroyed')
    expect(summary.hooks).toEqual([expect.objectContaining({ name: 'websockets', status: 'error' })])
    expect(summary.exitCode).toBe(124)
  })
})

describe('faults: HTTP/2', () => {
  it('an idle session does not hold the drain; an open stream completes after GOAWAY', async () => {
    const g = inProcessGraceful({ timeout: 3000 })
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const server = http2.createSecureServer(tls, g.handler<http2.Http2ServerRequest, http2.Http2ServerResponse>((req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('slow'))
      else res.end('fast')
    }))
    g.attach(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    afterTest(() => server.close())
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    const idle = http2.connect(origin, { rejectUnauthorized: false })
    const busy = http2.connect(origin, { rejectUnauthorized: false })
    afterTest(() => { idle.destroy(); busy.destroy() })
    const get = (session: http2.ClientHttp2Session, path: string) => new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': path })
      let body = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => { body += chunk })
      stream.on('end', () => resolve(body))
      stream.on('error', reject)
    })
    expect(await within(get(idle, '/fast'), 5000, 'fast')).toBe('fast')
    const slow = get(busy, '/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the stream to arrive').toBe(1), patience)
    const idleClosed = once(idle, 'close')
    const summary = g.shutdown()
    await within(idleClosed, 2000, 'the idle session to close')
    release()
    expect(await within(slow, 5000, 'slow')).toBe('slow')
    const result = await within(summary, 5000, 'the summary')
    expect(result.outcome).toBe('clean')
    expect(result.requests.completed).toBe(1)
  })
})
