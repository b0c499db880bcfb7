import { describe, expect, it, vi } from 'vitest'
import { exitMargin, exitWithin, holdRequest, openConnection, patience, startChild, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Real signals to real child processes. The formula under test (core README):
// signal → exit ≤ timeout, plus a few ms. Bounds here keep a wide margin for busy machines (exitMargin).

describe.each(targets)('signals and exit codes — $name', ({ name }) => {
  it('SIGTERM drains, runs release hooks, and exits 0', async () => {
    await using app = await startChild(name, { timeout: 5000 })
    await using idle = await openConnection(app.port)
    expect((await idle.request('/fast')).status).toBe(200)
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    await expect(within(idle.ended, 5000, 'FIN on the idle socket')).resolves.toBe('fin')
    const res = await held.release()
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('close')

    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(0)
    expect(exit.msSinceSignal).toBeLessThan(5000 + exitMargin)
    // Left for the exit to close after its last response (not destroyed first): still a FIN, never a reset.
    await expect(within(held.connection.ended, 5000, 'FIN on the busy socket')).resolves.toBe('fin')
    expect(app.hooks).toEqual(['release'])
    const messages = app.logs.map((line) => line.msg)
    expect(messages).toContain('graceful: draining, readiness is now not-ready')
    expect(app.logs.find((line) => line.msg === 'graceful: closed')?.fields).toMatchObject({ trigger: 'SIGTERM', outcome: 'clean', exitCode: 0 })
  })

  it('SIGINT is a trigger too', async () => {
    await using app = await startChild(name, { timeout: 5000 })
    app.kill('SIGINT')
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(0)
  })

  it('exits 124 within the budget when the deadline cuts a request', async () => {
    const timeout = 1000
    await using app = await startChild(name, { timeout, releaseTimeout: 250 })
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    const res = await held.response
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    const exit = await exitWithin(app, timeout)
    expect(exit.code).toBe(124)
    expect(exit.msSinceSignal).toBeGreaterThanOrEqual(timeout - 250 - 50)
    expect(exit.msSinceSignal).toBeLessThan(timeout + exitMargin)
    expect(app.hooks).toEqual(['release'])
    const cut = app.logs.find((line) => line.msg.startsWith('graceful: drain deadline reached'))
    expect(cut?.level).toBe('warn')
    expect(cut?.fields.holding).toEqual([expect.stringMatching(/^request GET \/slow/)])
  })

  it('a second signal forces an immediate exit with 128 + signal number', async () => {
    await using app = await startChild(name, { timeout: 60_000, readinessDelay: 30_000 })
    await using busy = await openConnection(app.port)
    const held = busy.request('/slow').catch((error: NodeJS.ErrnoException) => error.code)
    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.logs.some((line) => line.msg.startsWith('graceful: draining')), 'draining').toBe(true), patience)
    app.kill('SIGTERM')
    const exit = await within(app.exited, 5000, 'exit')
    expect(exit.code).toBe(143)
    expect(exit.msSinceSignal).toBeLessThan(2000)
    // The held request was cut with its connection, not answered.
    expect(['ECONNRESET', 'FIN_BEFORE_RESPONSE']).toContain(await held)
    expect(app.hooks).toEqual([])
  })

  it('with handleFatalErrors, an uncaught exception drains and exits 1', async () => {
    await using app = await startChild(name, { timeout: 5000, handleFatalErrors: true })
    app.send('throw-async')
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(1)
    expect(app.hooks).toEqual(['release'])
    expect(app.logs.find((line) => line.level === 'error')?.fields.err).toContain('fatal in the app')
  })
})
