import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { deferred, within } from '@graceful/test-kit'
import graceful from './index.js'

describe('a shutdown while app.listen() is still booting', () => {
  it('never lets the app become reachable once the drain has begun', async () => {
    const app = Fastify({ logger: false }) as unknown as FastifyInstance<RawServerBase>
    const booting = deferred()
    const slowPlugin = deferred()
    await app.register(graceful, { signals: false, exit: false, logger: false })
    // A plugin that takes its time (a database connection, a cache warm-up).
    void app.register(async () => {
      booting.resolve()
      await slowPlugin.promise
    })
    app.get('/fast', async () => 'fast')
    let listened = false
    app.server.on('listening', () => { listened = true })
    const listening = app.listen({ port: 0, host: '127.0.0.1' })
    listening.catch(() => {})
    await within(booting.promise, 5000, 'the plugin to start')
    const summary = app.graceful.shutdown()
    slowPlugin.resolve()
    // Refusing to listen is not a failed close: the shutdown is clean.
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
    const outcome = await within(listening.then(() => 'listening', (error: unknown) => error), 5000, 'app.listen() to settle')
    expect(listened).toBe(false)
    expect(outcome).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect(app.server.listening).toBe(false)
    await app.close()
  })

  it('on SIGTERM during a slow boot, never listens, and exits 0', async () => {
    const child = fork(fileURLToPath(new URL('./test-fixtures/slow-boot.ts', import.meta.url)), {
      execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
    const messages: string[] = []
    const booting = deferred()
    child.on('message', (message: string) => {
      messages.push(message)
      if (message === 'booting') booting.resolve()
    })
    const exited = once(child, 'exit') as Promise<[number | null]>
    await within(booting.promise, 15_000, 'the child to boot')
    child.kill('SIGTERM')
    const [code] = await within(exited, 15_000, 'the child to exit')
    expect(messages).not.toContain('listening')
    expect(messages).toContain('listen rejected ERR_GRACEFUL_DRAINING')
    expect(code).toBe(0)
  })
})
