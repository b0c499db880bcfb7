import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { createGraceful, type Graceful, type GracefulOptions } from '@graceful/core'
import { service as healthDefinition } from 'grpc-health-check'
import { describe, expect, it, vi } from 'vitest'
import { afterTest } from '@graceful/test-kit'
import { attach, type GrpcOptions } from './index.js'
import { bind, Echo, echoServer, type Msg } from './test-fixtures/echo.js'

const HealthClient = grpc.makeClientConstructor(healthDefinition as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health')
type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>

/** A graceful instance, an attached Echo server and a client; `gate` releases held calls. */
async function start (options: GracefulOptions = {}, grpcOptions: GrpcOptions = {}) {
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  const graceful: Graceful = createGraceful({ signals: false, exit: false, ...options })
  const server = echoServer(() => gate)
  const attachment = attach(graceful, server, grpcOptions)
  const port = await bind(server)
  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client
  const health = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client
  afterTest(() => {
    open()
    client.close()
    health.close()
    server.forceShutdown()
    return graceful.force('cleanup')
  })
  return { graceful, server, attachment, client, health, port, release: open }
}

function deadline (ms = 5000): Date {
  return new Date(Date.now() + ms)
}

function unary (client: Client, text: string): Promise<{ text?: string, code?: number }> {
  return new Promise((resolve) => {
    client.Unary!({ text }, { deadline: deadline() }, (error: grpc.ServiceError | null, reply?: Msg) => {
      resolve(error ? { code: error.code } : { text: reply?.text })
    })
  })
}

function check (health: Client, service = ''): Promise<string | number> {
  return new Promise((resolve) => {
    health.check!({ service }, { deadline: deadline() }, (error: grpc.ServiceError | null, reply?: { status: string }) => {
      resolve(error ? error.code : reply?.status ?? 'none')
    })
  })
}

describe('@graceful/grpc', () => {
  it('lets a unary call in flight complete, then the drain is clean', async () => {
    const { graceful, attachment, client, release } = await start()
    const held = unary(client, 'hold')
    await vi.waitFor(() => expect(attachment.calls).toHaveLength(1))

    const summary = graceful.shutdown()
    await vi.waitFor(() => expect(graceful.signal.aborted).toBe(true))
    release()
    expect(await held).toEqual({ text: 'held' })
    const result = await summary
    expect(result.outcome).toBe('clean')
    expect(result.hooks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'grpc', kind: 'notify', status: 'ok' })]))
  })

  it('fails a call made after the drain started with UNAVAILABLE, never a hang', async () => {
    const { graceful, attachment, client, release } = await start()
    // One call holds the drain open, so the server is shutting down, not gone.
    const held = unary(client, 'hold')
    await vi.waitFor(() => expect(attachment.calls).toHaveLength(1))
    const summary = graceful.shutdown()
    await vi.waitFor(() => expect(graceful.signal.aborted).toBe(true))

    expect(await unary(client, 'late')).toEqual({ code: grpc.status.UNAVAILABLE })
    release()
    expect(await held).toEqual({ text: 'held' })
    expect((await summary).outcome).toBe('clean')
  })

  it('tells server-streaming and bidirectional calls through onDrain, which ends them', async () => {
    const told: string[] = []
    const { graceful, attachment, client } = await start({}, {
      onDrain: (entry) => {
        told.push(`${entry.type} ${entry.path}`)
        entry.call.end()
      },
    })
    const numbers = client.Numbers!({ text: 'go' }) as grpc.ClientReadableStream<Msg>
    const chat = client.Chat!() as grpc.ClientDuplexStream<Msg, Msg>
    chat.write({ text: 'hi' })
    const ends = [numbers, chat].map((call) => {
      call.on('data', () => {})
      return new Promise<number>((resolve) => {
        call.on('status', (status: grpc.StatusObject) => resolve(status.code))
        call.on('error', () => {})
      })
    })
    await vi.waitFor(() => expect(attachment.calls).toHaveLength(2))

    const summary = await graceful.shutdown()
    expect(await Promise.all(ends)).toEqual([grpc.status.OK, grpc.status.OK])
    expect(told.sort()).toEqual(['bidi /test.Echo/Chat', 'serverStream /test.Echo/Numbers'])
    expect(summary.outcome).toBe('clean')
    chat.end()
  })

  it('follows pause() and resume(): NOT_SERVING while paused, calls still served, SERVING again after', async () => {
    const { graceful, client, health } = await start()
    graceful.pause('maintenance')
    expect(await check(health)).toBe('NOT_SERVING')
    expect(await check(health, 'test.Echo')).toBe('NOT_SERVING')
    expect(await unary(client, 'paused')).toEqual({ text: 'paused' })
    graceful.resume()
    expect(await check(health)).toBe('SERVING')
    expect(await check(health, 'test.Echo')).toBe('SERVING')
  })

  it('reports NOT_SERVING for every service from the trigger, while calls are still served during readinessDelay', async () => {
    const { graceful, client, health } = await start({ timeout: 5000, readinessDelay: 400 })
    expect(await check(health)).toBe('SERVING')
    expect(await check(health, 'test.Echo')).toBe('SERVING')

    const summary = graceful.shutdown()
    expect(await check(health)).toBe('NOT_SERVING')
    expect(await check(health, 'test.Echo')).toBe('NOT_SERVING')
    // Still serving: the load balancer has not caught up yet. (No HTTP server is attached:
    // the delay applies because the gRPC server is serving.)
    expect(graceful.signal.aborted).toBe(false)
    expect(await unary(client, 'during the delay')).toEqual({ text: 'during the delay' })
    const result = await summary
    expect(result.durations.readinessDelay).toBeGreaterThanOrEqual(390)
    expect(result.outcome).toBe('clean')
  })

  it('cuts a stuck call at the deadline with forceShutdown, reports it like a request, exit code 124', async () => {
    const cuts: unknown[] = []
    const { graceful, attachment, client } = await start({ timeout: 900, releaseTimeout: 200, onCut: (cut) => cuts.push(cut) })
    const stuck = unary(client, 'stuck')
    await vi.waitFor(() => expect(attachment.calls).toHaveLength(1))

    const started = Date.now()
    const summary = await graceful.shutdown()
    expect(summary.outcome).toBe('cut')
    expect(summary.exitCode).toBe(124)
    expect(summary.cut).toEqual([expect.objectContaining({ method: 'POST', url: '/test.Echo/Unary', action: 'destroyed' })])
    expect(summary.cut[0]!.ageMs).toBeGreaterThanOrEqual(600)
    expect(summary.requests.cut).toBe(1)
    expect(summary.holding).toEqual(expect.arrayContaining(['task grpc /test.Echo/Unary']))
    expect(cuts).toEqual([summary.cut])
    // UNAVAILABLE, never CANCELLED: a client cannot tell CANCELLED from its own cancel, and does not retry it.
    expect(await stuck).toEqual({ code: grpc.status.UNAVAILABLE })
    expect(Date.now() - started).toBeLessThan(2500)
  })

  it('ends a streaming call still open at the deadline with UNAVAILABLE, after the messages it sent', async () => {
    const { graceful, attachment, client } = await start({ timeout: 900, releaseTimeout: 200 })
    const call = (client.Numbers as (request: Msg, options: grpc.CallOptions) => grpc.ClientReadableStream<Msg>)({ text: 'go' }, { deadline: deadline() })
    const messages: string[] = []
    call.on('data', (message: Msg) => messages.push(message.text))
    const status = new Promise<number>((resolve) => {
      call.on('status', (s: grpc.StatusObject) => resolve(s.code))
      call.on('error', () => {})
    })
    await vi.waitFor(() => expect(messages).toEqual(['1']))
    expect(attachment.calls).toHaveLength(1)
    const summary = await graceful.shutdown()
    expect(summary.outcome).toBe('cut')
    expect(await status).toBe(grpc.status.UNAVAILABLE)
  })

  it('drains beside an HTTP server in the same budget', async () => {
    const http = await import('node:http')
    const { graceful, attachment, client, release } = await start()
    const httpServer = http.createServer(graceful.handler((_req, res) => { res.end('ok') }))
    graceful.attach(httpServer)
    httpServer.listen(0, '127.0.0.1')
    await once(httpServer, 'listening')
    afterTest(() => { httpServer.closeAllConnections(); httpServer.close() })
    const held = unary(client, 'hold')
    await vi.waitFor(() => expect(attachment.calls).toHaveLength(1))
    const summary = graceful.shutdown()
    await vi.waitFor(() => expect(httpServer.listening).toBe(false))
    release()
    expect(await held).toEqual({ text: 'held' })
    expect((await summary).outcome).toBe('clean')
  })

  it('rejects bad input naming the option', () => {
    const graceful = createGraceful({ signals: false, exit: false })
    afterTest(() => graceful.force('cleanup'))
    const server = new grpc.Server()
    expect(() => attach(graceful, {} as grpc.Server)).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'server' }))
    expect(() => attach(graceful, server, { onDrain: 1 as never })).toThrow(expect.objectContaining({ option: 'onDrain' }))
    expect(() => attach(graceful, server, { health: {} as never })).toThrow(expect.objectContaining({ option: 'health' }))
    expect(() => attach(graceful, server, { timeout: 1 } as never)).toThrow(expect.objectContaining({ option: 'timeout' }))
    const attachment = attach(graceful, server)
    expect(() => attach(graceful, server)).toThrow(expect.objectContaining({ option: 'server' }))
    attachment.detach()
    expect(() => attach(graceful, server).detach()).not.toThrow()
  })
})

describe('@graceful/grpc in a process that gets SIGTERM', () => {
  it('cuts a stuck call and exits with 124 within the budget', async () => {
    const child = fork(fileURLToPath(new URL('./test-fixtures/child.ts', import.meta.url)), {
      execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
      env: { ...process.env, TIMEOUT: '1500', NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    afterTest(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    const [{ port }] = await Promise.race([
      once(child, 'message') as Promise<[{ port: number }]>,
      exited.then(() => { throw new Error('child exited before binding') }),
    ])
    const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client
    afterTest(() => client.close())
    const stuck = unary(client, 'stuck')
    // The call has reached the child once the channel is READY and a moment has passed: wait for READY.
    await new Promise<void>((resolve, reject) => client.waitForReady(deadline(), (error) => error ? reject(error) : resolve()))
    await new Promise((resolve) => setTimeout(resolve, 100))

    const signalled = Date.now()
    child.kill('SIGTERM')
    const [code] = await exited
    expect(code).toBe(124)
    // 1.5 s budget; a wide margin for a busy machine.
    expect(Date.now() - signalled).toBeLessThan(4000)
    expect((await stuck).code).not.toBeUndefined()
  })
})
