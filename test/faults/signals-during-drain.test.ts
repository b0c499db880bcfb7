import { describe, expect, it, vi } from 'vitest'
import { exitWithin, holdRequest, patience, startChild, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Real signals to forked children. A "first" signal is the first one
// *delivered*, whoever started the drain; a fatal error during a drain is never swallowed.
const report = { REPORT_SIGNALS: '1' }

describe.each(targets)('faults: signals and fatal errors — $name', ({ name }) => {
  it('a SIGTERM during a drain started by shutdown() is a first signal: no force, exit when the drain ends', async () => {
    await using app = await startChild(name, { timeout: 5000 }, report)
    await using held = await holdRequest(app)

    app.send('shutdown')
    await vi.waitFor(() => expect(app.logs.some((line) => line.msg.startsWith('graceful: draining')), 'draining').toBe(true), patience)
    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the child to handle SIGTERM').toBe(1), patience)
    const res = await held.release()
    expect(res.status).toBe(200)
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(0)
    expect(app.hooks).toEqual(['release'])
    expect(app.logs.some((line) => line.msg.startsWith('graceful: forced'))).toBe(false)
  })

  it('the app\'s own SIGTERM handler, registered before graceful, does not turn the signal into a second one', async () => {
    await using app = await startChild(name, { timeout: 5000 }, { ...report, OWN_SIGTERM: '1' })
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the child to handle SIGTERM').toBe(1), patience)
    expect((await held.release()).status).toBe(200)
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(0)
    expect(app.hooks).toEqual(['release'])
  })

  it('only a second delivered signal forces (143)', async () => {
    await using app = await startChild(name, { timeout: 60_000, readinessDelay: 30_000 }, report)
    app.send('shutdown')
    await vi.waitFor(() => expect(app.logs.some((line) => line.msg.startsWith('graceful: draining')), 'draining').toBe(true), patience)
    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the first SIGTERM').toBe(1), patience)
    expect(app.child.exitCode).toBe(null)
    app.kill('SIGTERM')
    const exit = await within(app.exited, 5000, 'exit')
    expect(exit.code).toBe(143)
    expect(app.hooks).toEqual([])
  })

  it('with handleFatalErrors, an uncaught exception during the drain is logged with its stack, the drain goes on, exit 1', async () => {
    await using app = await startChild(name, { timeout: 5000, handleFatalErrors: true }, report)
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the child to handle SIGTERM').toBe(1), patience)
    app.send('throw-async')
    const fatal = () => app.logs.find((line) => line.level === 'error' && String(line.fields.err).includes('fatal in the app'))
    await vi.waitFor(() => expect(fatal() !== undefined, 'the fatal error in the log').toBe(true), patience)
    expect(fatal()?.fields.err).toMatch(/^Error: fatal in the app\n\s+at /)
    expect((await held.release()).status).toBe(200)
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(1)
    expect(app.hooks).toEqual(['release'])
  })
})
