import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import http2 from 'node:http2'
import { connect, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { afterTest, http2Reply, within } from '@graceful/test-kit'
import { createGraceful } from '../graceful.js'
import { closeHttp2Session } from './http2-goaway.js'

/** An h2c server answering every stream with its path, and a connected client whose session both sides see. */
async function connected (server: http2.Http2Server | http2.Http2SecureServer = http2.createServer()) {
  const sessions: http2.ServerHttp2Session[] = []
  const goaways: number[] = []
  server.on('session', (session) => sessions.push(session))
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 })
    stream.end(String(headers[':path']))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const secure = server instanceof tls.Server
  const client = http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`, { rejectUnauthorized: false })
  client.on('error', () => {})
  client.on('goaway', (_code: number, lastStreamId: number) => goaways.push(lastStreamId))
  afterTest(() => {
    client.destroy()
    for (const session of sessions) session.destroy()
    server.close()
  })
  // One completed request: the session is established and both SETTINGS exchanged.
  expect(await get(client, '/warm-up')).toEqual({ status: 200, body: '/warm-up' })
  return { server, client, session: sessions[0]!, goaways }
}

function get (client: http2.ClientHttp2Session, path: string): Promise<{ status: number, body: string } | { error: string }> {
  return http2Reply(client.request({ ':path': path })).catch((error: NodeJS.ErrnoException) => ({ error: error.code ?? error.message }))
}

describe('closeHttp2Session (two-phase GOAWAY)', () => {
  it('serves a stream the client opened at the very moment the drain started', async () => {
    const { client, session, goaways } = await connected()
    // Same tick: the client's HEADERS and the server's first GOAWAY cross on the wire.
    const racing = get(client, '/racing')
    closeHttp2Session(session)
    expect(await racing).toEqual({ status: 200, body: '/racing' })
    await once(session, 'close')
    // First the promise to process everything, then the real last stream (warm-up 1, racing 3).
    expect([...new Set(goaways)]).toEqual([2 ** 31 - 1, 3])
  })

  it('keeps the one-phase close over TLS (h2), where a write of its own would abort the process', async () => {
    const server = http2.createSecureServer({
      key: readFileSync(new URL('../test-fixtures/key.pem', import.meta.url)),
      cert: readFileSync(new URL('../test-fixtures/cert.pem', import.meta.url)),
    })
    const { client, session, goaways } = await connected(server)
    const racing = get(client, '/racing')
    closeHttp2Session(session)
    expect(await racing).toEqual({ error: 'ERR_HTTP2_STREAM_ERROR' })
    expect([...new Set(goaways)]).toEqual([1])
  })

  it('refuses that same stream with the one-phase close() it replaces (the bug it fixes)', async () => {
    const { client, session } = await connected()
    const racing = get(client, '/racing')
    session.close()
    expect(await racing).toEqual({ error: 'ERR_HTTP2_STREAM_ERROR' })
  })

  it('is idempotent, and closes an idle session within a round trip', async () => {
    const { session, goaways } = await connected()
    closeHttp2Session(session)
    closeHttp2Session(session)
    await once(session, 'close')
    // One first GOAWAY, however often it is asked for. (A Node client closes itself on it:
    // with nothing open, it is gone before the final one arrives.)
    expect(goaways.filter((id) => id === 2 ** 31 - 1)).toHaveLength(1)
  })

  it('sends the final GOAWAY after pingTimeout when the client never acks the PING', async () => {
    const server = http2.createServer()
    afterTest(() => server.close())
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    // A bare client: the preface, empty SETTINGS, an ACK of the server's, then silence (no PING ack).
    const raw = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' })
    afterTest(() => raw.destroy())
    raw.on('error', () => {})
    raw.resume()
    const [session] = await new Promise<[http2.ServerHttp2Session]>((resolve) => {
      server.once('session', (s: http2.ServerHttp2Session) => resolve([s]))
      raw.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0])]))
    })
    if (session.pendingSettingsAck) await once(session, 'localSettings')
    const closed = once(session, 'close')
    const started = Date.now()
    closeHttp2Session(session, { pingTimeout: 100 })
    await expect(Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000, 'hung'))])).resolves.not.toBe('hung')
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
  })

  it('keeps the one-phase close over a stream that is not a libuv socket, and the process survives the drain', async () => {
    // In a child: the two-phase write into the JSStreamSocket that wraps such a
    // stream killed the process (ERR_INTERNAL_ASSERTION).
    const child = fork(fileURLToPath(new URL('../test-fixtures/h2-duplex.ts', import.meta.url)), {
      execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    afterTest(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const [code] = await within(once(child, 'exit') as Promise<[number | null]>, 15_000, 'the child to exit')
    expect(output).not.toContain('ERR_INTERNAL_ASSERTION')
    expect(code).toBe(0)
    expect(JSON.parse(output)).toEqual({ fast: 'fast', slow: 'slow', outcome: 'clean' })
  })

  it('is what the drain does to an attached HTTP/2 server', async () => {
    const g = createGraceful({ signals: false, exit: false })
    afterTest(() => g.force('cleanup'))
    const server = http2.createServer()
    g.attach(server)
    const { client, goaways } = await connected(server)
    const racing = get(client, '/racing')
    const summary = g.shutdown()
    expect(await racing).toEqual({ status: 200, body: '/racing' })
    expect((await summary).outcome).toBe('clean')
    expect([...new Set(goaways)]).toEqual([2 ** 31 - 1, 3])
  })
})
