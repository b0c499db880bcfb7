import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify'
import { describe, expect, it } from 'vitest'
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
    await within(summary, 5000, 'the summary')
    const outcome = await within(listening.then(() => 'listening', (error: unknown) => error), 5000, 'app.listen() to settle')
    expect(listened).toBe(false)
    expect(outcome).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect(app.server.listening).toBe(false)
    await app.close()
  })
})
