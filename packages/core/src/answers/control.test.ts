import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { inProcessGraceful, listening, openConnection, within } from '@graceful/test-kit'
import { adapterView } from '../adapter.js'
import type { Graceful } from '../index.js'

const token = 'a-long-and-random-token-0123456789'
const auth = { authorization: `Bearer ${token}` }

interface Answer { status: number, headers: http.IncomingHttpHeaders, body: string }

/** One request with full control of headers and body; `body` may be written without ending (a client still uploading). */
function call (port: number, method: string, path: string, options: { headers?: Record<string, string>, body?: string | Buffer, end?: boolean } = {}): Promise<Answer> {
  return within(new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: options.headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        req.destroy()
      })
    })
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    if (options.end !== false) req.end()
  }), 15_000, `${method} ${path}`)
}

/** An instance with an app server on 127.0.0.1:0 and the control surface on 127.0.0.1:0. */
async function start (options: Parameters<typeof inProcessGraceful>[0] = {}) {
  const graceful = inProcessGraceful({ control: { token, port: 0 }, ...options })
  const app = await listening(http.createServer(graceful.handler((_req, res) => { res.writeHead(404).end('app 404') })).listen(0, '127.0.0.1'))
  graceful.attach(app.server)
  const control = adapterView(graceful).sideListeners.control!
  if (!control.listening) await once(control, 'listening')
  return { graceful, app, control, port: (control.address() as AddressInfo).port, [Symbol.asyncDispose]: () => app[Symbol.asyncDispose]() }
}

function notPaused (graceful: Graceful): void {
  expect(graceful.stats().paused).toBeNull()
  expect(graceful.ready).toBe(true)
}

describe('control surface', () => {
  it('pauses, resumes and reports status with the token; binds 127.0.0.1 by default', async () => {
    await using c = await start()
    expect((c.control.address() as AddressInfo).address).toBe('127.0.0.1')
    const paused = await call(c.port, 'POST', '/pause', { headers: { ...auth, 'content-type': 'application/json' }, body: '{"reason":"disk check"}' })
    expect(paused.status).toBe(200)
    expect(JSON.parse(paused.body)).toMatchObject({ state: 'accepting', paused: { reason: 'disk check' } })
    expect(c.graceful.stats().paused?.reason).toBe('disk check')
    const status = await call(c.port, 'GET', '/status', { headers: auth })
    expect(status.status).toBe(200)
    expect(status.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(status.body)).toEqual(JSON.parse(JSON.stringify(c.graceful.stats())))
    const head = await call(c.port, 'HEAD', '/status', { headers: auth })
    expect(head).toMatchObject({ status: 200, body: '' })
    // An empty body pauses without a reason; resume is idempotent.
    expect((await call(c.port, 'POST', '/resume', { headers: auth })).status).toBe(200)
    expect((await call(c.port, 'POST', '/resume', { headers: auth })).status).toBe(200)
    notPaused(c.graceful)
    expect((await call(c.port, 'POST', '/pause', { headers: auth })).status).toBe(200)
    expect(c.graceful.stats().paused?.reason).toBeNull()
  })

  it('401 without a token, with a wrong one, another scheme, or the token in the query string; learns nothing of the paths', async () => {
    await using c = await start()
    const attempts: [string, string, Record<string, string>][] = [
      ['POST', '/pause', {}],
      ['POST', '/pause', { authorization: 'Bearer wrong' }],
      ['POST', '/pause', { authorization: `Bearer ${token.slice(0, -1)}x` }],
      ['POST', '/pause', { authorization: `Bearer ${token}${token}` }],
      ['POST', '/pause', { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` }],
      ['POST', '/pause', { authorization: token }],
      ['POST', `/pause?token=${token}`, {}],
      ['POST', `/pause?access_token=${token}`, {}],
      ['GET', `/status?access_token=${token}`, {}],
      ['GET', '/nothing-here', {}],
      ['DELETE', '/status', {}],
    ]
    for (const [method, path, headers] of attempts) {
      const answer = await call(c.port, method, path, { headers })
      expect(answer.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401)
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="graceful"')
      expect(answer.headers.connection).toBe('close')
      expect(answer.body).toBe('{"status":"unauthorized"}')
    }
    notPaused(c.graceful)
  })

  it('with the token: 404 for another path, 405 for another method (with Allow), 400 for a body that is not {"reason"}', async () => {
    await using c = await start()
    expect((await call(c.port, 'GET', '/nothing-here', { headers: auth })).status).toBe(404)
    for (const [method, path, allow] of [['GET', '/pause', 'POST'], ['PUT', '/resume', 'POST'], ['DELETE', '/status', 'GET, HEAD'], ['POST', '/status', 'GET, HEAD']] as const) {
      const answer = await call(c.port, method, path, { headers: auth })
      expect(answer.status, `${method} ${path}`).toBe(405)
      expect(answer.headers.allow).toBe(allow)
    }
    for (const body of ['not json', '[1]', '{"reason":42}', 'null']) {
      expect((await call(c.port, 'POST', '/pause', { headers: auth, body })).status, body).toBe(400)
    }
    notPaused(c.graceful)
  })

  it('413 for a huge body, declared or streamed, without reading it', async () => {
    await using c = await start()
    // Declared: answered before a byte of the body is read.
    const declared = await call(c.port, 'POST', '/pause', { headers: { ...auth, 'content-length': String(100 * 1024 * 1024) }, body: 'x'.repeat(1024), end: false })
    expect(declared.status).toBe(413)
    expect(declared.headers.connection).toBe('close')
    // Chunked, no length: cut at the limit.
    const streamed = await call(c.port, 'POST', '/pause', { headers: auth, body: Buffer.alloc(64 * 1024, 'x'), end: false })
    expect(streamed.status).toBe(413)
    notPaused(c.graceful)
  })

  it('is never on the app port: the app answers there, token or not', async () => {
    await using c = await start()
    for (const path of ['/pause', '/resume', '/status']) {
      const answer = await call(c.app.port, 'POST', path, { headers: auth })
      expect(answer).toMatchObject({ status: 404, body: 'app 404' })
    }
    notPaused(c.graceful)
  })

  it('408 for a client that never finishes its request (slowloris), then the connection is closed', async () => {
    await using c = await start()
    await using conn = await openConnection(c.port)
    conn.write(`POST /pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`)
    // Node's requestTimeout (5 s here), checked every second.
    const answer = await within(conn.response(), 15_000, 'the 408')
    expect(answer.status).toBe(408)
    await within(conn.ended, 5000, 'the FIN')
    notPaused(c.graceful)
  }, 20_000)

  it('409 once a shutdown started; status keeps answering until the shutdown ends, then the listener is closed', async () => {
    await using c = await start({ readinessDelay: 60_000, timeout: 120_000 })
    const summary = c.graceful.shutdown()
    expect((await call(c.port, 'POST', '/pause', { headers: auth })).status).toBe(409)
    expect((await call(c.port, 'POST', '/resume', { headers: auth })).status).toBe(409)
    const status = await call(c.port, 'GET', '/status', { headers: auth })
    expect(JSON.parse(status.body)).toMatchObject({ state: 'draining' })
    void c.graceful.force('test')
    await within(summary, 5000, 'the summary')
    expect(c.control.listening).toBe(false)
  })
})

describe('control surface sharing the health listener', () => {
  it('same port and host: one listener answers the probes without a token and the control only with one', async () => {
    const graceful = inProcessGraceful({ health: { port: 0, host: '127.0.0.1' }, control: { token, port: 0, host: '127.0.0.1' } })
    const { health, control } = adapterView(graceful).sideListeners
    expect(control).toBe(health)
    if (!health!.listening) await once(health!, 'listening')
    const port = (health!.address() as AddressInfo).port
    expect((await call(port, 'GET', '/livez')).status).toBe(200)
    // No app server attached yet: starting.
    expect(JSON.parse((await call(port, 'GET', '/readyz')).body)).toEqual({ status: 'starting' })
    graceful.markReady()
    expect((await call(port, 'GET', '/readyz')).status).toBe(200)
    expect((await call(port, 'GET', '/status')).status).toBe(401)
    expect((await call(port, 'POST', '/pause', { headers: auth })).status).toBe(200)
    expect(JSON.parse((await call(port, 'GET', '/readyz')).body)).toEqual({ status: 'paused' })
  })
})
