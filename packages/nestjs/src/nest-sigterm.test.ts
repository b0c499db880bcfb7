import { describe, expect, it, vi } from 'vitest'
import { exitMargin, exitWithin, holdRequest, sendRequest, startChild, tryConnect } from '@graceful/test-kit'

// A real SIGTERM to a forked Nest app (test/fixtures/serve.ts running test/targets/nestjs.ts),
// which reports Nest's hooks as log lines. Bounds keep a wide margin for busy machines (exitMargin).

describe.each(['express', 'fastify'])('SIGTERM to a Nest app on %s', (platform) => {
  it('serves through the readiness delay, drains, runs Nest\'s hooks after the drain with the signal, exits 0', async () => {
    await using app = await startChild(`nestjs-${platform}`, { timeout: 6000, readinessDelay: 2000 })
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    await vi.waitFor(async () => { expect((await sendRequest(app.port, '/readyz')).status).toBe(503) }, { timeout: 5000, interval: 20 })
    // Still listening and serving during the delay (Nest's own shutdown hooks close the listener here).
    expect(await tryConnect(app.port)).toBe('connected')
    const served = await sendRequest(app.port, '/fast')
    expect(served.status).toBe(200)
    expect(served.headers.connection).toBe('close')
    expect(app.logs.some((line) => line.msg.startsWith('nest:'))).toBe(false)

    // After the delay the listener closes; the held request still completes.
    await vi.waitFor(async () => { expect(await tryConnect(app.port)).toBe('ECONNREFUSED') }, { timeout: 5000, interval: 20 })
    expect(app.logs.some((line) => line.msg.startsWith('nest:'))).toBe(false)
    const res = await held.release()
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('close')

    const exit = await exitWithin(app, 6000)
    expect(exit.code).toBe(0)
    expect(exit.msSinceSignal).toBeLessThan(6000 + exitMargin)
    const sequence = app.logs
      .filter((line) => line.msg === 'graceful: drained' || line.msg.startsWith('nest:') || line.msg === 'graceful: closed')
      .map((line) => line.fields.signal === undefined ? line.msg : `${line.msg} ${String(line.fields.signal)}`)
    expect(sequence).toEqual([
      'graceful: drained',
      'nest: onModuleDestroy',
      'nest: beforeApplicationShutdown SIGTERM',
      'nest: onApplicationShutdown SIGTERM',
      'graceful: closed',
    ])
    expect(app.hooks).toEqual(['release'])
  })
})
