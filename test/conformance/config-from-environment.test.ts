import { afterEach, describe, expect, it, vi } from 'vitest'
import { exitMargin, exitWithin, holdRequest, startChild } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY, the variables the
// deploy files set, configure every adapter, with no code in the app. The
// children inherit this process's environment.

afterEach(() => { vi.unstubAllEnvs() })

describe.each(targets)('configuration from the environment — $name', ({ name }) => {
  it('GRACEFUL_TIMEOUT sets the budget and GRACEFUL_READINESS_DELAY the delay, with no option in code', async () => {
    vi.stubEnv('GRACEFUL_TIMEOUT', '1500')
    vi.stubEnv('GRACEFUL_READINESS_DELAY', '300')
    await using app = await startChild(name, { releaseTimeout: 250 })
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    // No terminal in a child process: the delay applies, and the deadline cuts the held request.
    const exit = await exitWithin(app, 1500)
    expect(exit.code).toBe(124)
    expect(exit.msSinceSignal).toBeLessThan(1500 + exitMargin)
    expect((await held.response).status).toBe(503)
    const closed = app.logs.find((line) => line.msg === 'graceful: closed')?.fields as { durations: { readinessDelay: number } } | undefined
    expect(closed?.durations.readinessDelay).toBeGreaterThanOrEqual(290)
  })

  it('a bad value stops the app before it listens, naming the variable', async () => {
    vi.stubEnv('GRACEFUL_TIMEOUT', '15s')
    await expect(startChild(name)).rejects.toThrow(/GRACEFUL_TIMEOUT \(environment, sets timeout\)/)
  })
})
