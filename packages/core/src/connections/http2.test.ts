import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { afterTest, within } from '@graceful/test-kit'
import { createGraceful } from '../graceful.js'

describe('HTTP/2 at the deadline', () => {
  it('destroys a cleartext session whose client keeps the connection after GOAWAY', async () => {
    const g = createGraceful({ signals: false, exit: false, timeout: 600, releaseTimeout: 100 })
    afterTest(() => g.force('cleanup'))
    const server = http2.createServer(g.handler((_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => { res.writeHead(200); res.write('start') }))
    g.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterTest(() => new Promise((resolve) => server.close(resolve)))
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    afterTest(() => client.destroy())
    client.on('error', () => {})
    // The response started before the drain and never ends; the client ignores GOAWAY and holds its session open.
    client.on('goaway', () => {})
    const stream = client.request({ ':path': '/held' })
    stream.on('error', () => {})
    stream.resume()
    const status = new Promise<number>((resolve) => stream.on('response', (headers) => resolve(Number(headers[':status']))))
    await within(new Promise<void>((resolve) => { const check = () => g.stats().inFlight === 1 ? resolve() : setImmediate(check); check() }), 5000, 'the stream')

    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect(summary.outcome).toBe('cut')
    expect(await status).toBe(200)
    await within(once(client, 'close'), 2000, 'the session to be closed by the server')
  })
})
