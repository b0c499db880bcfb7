import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { afterTest, inProcessGraceful } from '@graceful/test-kit'
import { ErrorCodes, type GracefulError } from '../support/errors.js'
import type { Graceful } from '../types/handle.js'
import type { StreamOptions } from '../types/handle.js'

/** A server whose one route registers its response with `graceful.stream()` after `prepare`. */
async function serve (g: Graceful, prepare: (res: http.ServerResponse) => void, options?: StreamOptions) {
  const signals: AbortSignal[] = []
  const server = http.createServer((_req, res) => {
    prepare(res)
    signals.push(g.stream(res, options))
  })
  g.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  afterTest(() => {
    server.closeAllConnections()
    server.close()
  })
  return { port: (server.address() as AddressInfo).port, signals }
}

function get (port: number): Promise<{ status: number, body: string, headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

describe('graceful.stream()', () => {
  it('ends a plain streaming body at the drain start (no retry: line) and aborts the signal it returned', async () => {
    const g = inProcessGraceful()
    const { port, signals } = await serve(g, (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write('{"token":1}\n')
    })
    const response = get(port)
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    const summary = await g.shutdown()
    expect((await response).body).toBe('{"token":1}\n')
    expect(signals[0]?.aborted).toBe(true)
    expect((signals[0]?.reason as GracefulError).code).toBe(ErrorCodes.DRAINING)
    expect(summary.outcome).toBe('clean')
  })

  it('runs onDrain for the last words, then writes the retry: the caller chose', async () => {
    const g = inProcessGraceful()
    const { port } = await serve(g, (res) => {
      res.setHeader('content-type', 'text/event-stream')
      res.write('data: 1\n\n')
    }, { retry: 250, onDrain: (target) => target.write('event: shutdown\ndata: bye\n\n') })
    const response = get(port)
    await vi.waitFor(() => expect(g.stats().inFlight).toBe(1))
    await g.shutdown()
    expect((await response).body).toBe('data: 1\n\nevent: shutdown\ndata: bye\n\nretry: 250\n\n')
  })

  it('answers with the draining 503 a stream registered before its headers went out', async () => {
    const g = inProcessGraceful({ retryAfter: 4 })
    const { port, signals } = await serve(g, () => {})
    const response = get(port)
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    await g.shutdown()
    const res = await response
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBe('4')
  })

  it('ends a stream registered after the drain started (accepted during the readiness delay) once its headers are out', async () => {
    const g = inProcessGraceful({ readinessDelay: 200, timeout: 5000 })
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    let signal: AbortSignal | undefined
    const server = http.createServer((_req, res) => {
      void held.then(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        signal = g.stream(res)
        res.write('data: late\n\n')
      })
    })
    g.attach(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    afterTest(() => { server.closeAllConnections(); server.close() })
    const response = get((server.address() as AddressInfo).port)
    await vi.waitFor(() => expect(g.stats().inFlight).toBe(1))
    const summary = g.shutdown()
    await vi.waitFor(() => expect(g.signal.aborted).toBe(true))
    release()
    expect((await response).body).toBe('data: late\n\nretry: 1000\n\n')
    expect((signal?.reason as GracefulError).code).toBe(ErrorCodes.DRAINING)
    expect((await summary).outcome).toBe('clean')
  })

  it('rejects bad options naming them', () => {
    const g = inProcessGraceful()
    const res = new http.ServerResponse(new http.IncomingMessage(null as never))
    expect(() => g.stream(res, { retry: -1 })).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'stream.retry' }))
    expect(() => g.stream(res, { onDrain: 'no' as never })).toThrow(expect.objectContaining({ option: 'stream.onDrain' }))
    expect(() => g.stream({} as never)).toThrow(expect.objectContaining({ option: 'stream' }))
  })
})
