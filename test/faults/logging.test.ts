import { describe, expect, it } from 'vitest'
import { holdRequest, startChild, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Never silent by default: without a logger, core, Express and Koa write warnings and errors to
// stderr, one pino-compatible JSON line each; `logger: false` silences. (Fastify's default is
// `app.log`, NestJS's is Nest's own Logger: each covered by its own package.)
const serverTargets = targets.filter((target) => target.name !== 'fastify' && !target.name.startsWith('nestjs'))

interface Line { level: number, msg: string, err?: { stack?: string }, hook?: string, holding?: string[] }

describe.each(serverTargets)('faults: logging by default — $name', ({ name }) => {
  it('a failing cleanup hook plus a cut request: exit 124, and stderr says why, one JSON line each', async () => {
    await using app = await startChild(name, { timeout: 1000, releaseTimeout: 250 }, { DEFAULT_LOGGER: '1', FAILING_HOOK: '1' })
    await using held = await holdRequest(app)
    app.kill('SIGTERM')
    expect((await held.response).status).toBe(503)
    const exit = await within(app.exited, 4000, 'exit')
    expect(exit.code).toBe(124)

    const lines = app.stderr.trim().split('\n').filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as Line)
    const cut = lines.find((line) => line.msg.startsWith('graceful: drain deadline reached'))
    expect(cut).toMatchObject({ level: 40, holding: [expect.stringMatching(/^request GET \/slow/)] })
    const hook = lines.find((line) => line.hook === 'failing')
    expect(hook?.level).toBe(50)
    expect(hook?.err?.stack).toMatch(/^Error: cleanup failed\n\s+at /)
    // Warnings and errors only: info goes to NODE_DEBUG=graceful.
    expect(lines.every((line) => line.level >= 40)).toBe(true)
  })

  it('NODE_DEBUG=graceful: the info lines too, each with its fields', async () => {
    await using app = await startChild(name, { timeout: 1000 }, { DEFAULT_LOGGER: '1', NODE_DEBUG: 'graceful' })
    app.kill('SIGTERM')
    expect((await within(app.exited, 4000, 'exit')).code).toBe(0)
    expect(app.stderr).toMatch(/^GRACEFUL \d+: graceful: draining, readiness is now not-ready \{.*"trigger":"SIGTERM"/m)
    expect(app.stderr).toMatch(/^GRACEFUL \d+: graceful: closed \{.*"outcome":"clean".*"exitCode":0/m)
  })

  it('logger: false is silent', async () => {
    await using app = await startChild(name, { timeout: 1000, releaseTimeout: 250, logger: false }, { FAILING_HOOK: '1' })
    await using held = await holdRequest(app)
    app.kill('SIGTERM')
    expect((await held.response).status).toBe(503)
    expect((await within(app.exited, 4000, 'exit')).code).toBe(124)
    expect(app.stderr).toBe('')
  })
})
