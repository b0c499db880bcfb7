import { describe, expect, it } from 'vitest'
import type { GracefulOptions } from '@graceful/core'
import { targets } from '../helpers/targets.js'

// Bad options are refused at creation, with the option named, on every target,
// and nothing left behind (no signal listener).
const maxTimer = 2 ** 31 - 1

const refused: [string, GracefulOptions, string, RegExp][] = [
  ['a timeout a timer cannot hold', { timeout: maxTimer + 1 }, 'timeout', /at most 2147483647/],
  ['a readinessDelay a timer cannot hold', { timeout: 2 ** 40, readinessDelay: 2 ** 35 }, 'timeout', /at most/],
  ['a releaseTimeout a timer cannot hold', { releaseTimeout: 2 ** 32 }, 'releaseTimeout', /at most/],
  ['a readiness check timeout a timer cannot hold', { health: { checkTimeout: 2 ** 31 } }, 'health.checkTimeout', /at most/],
  ['liveness and readiness on one path', { health: { liveness: '/health', readiness: '/health' } }, 'health.readiness', /other than health.liveness/],
  ['the default readiness path as liveness', { health: { liveness: '/readyz' } }, 'health.readiness', /other than health.liveness/],
  ['a health path with a query', { health: { readiness: '/readyz?full=1' } }, 'health.readiness', /without "\?"/],
  ['a health path with a fragment', { health: { liveness: '/livez#x' } }, 'health.liveness', /"#"/],
  ['a relative health path', { health: { liveness: 'livez' } }, 'health.liveness', /absolute path/],
]

describe.each(targets)('faults: options refused at creation — $name', (target) => {
  it.each(refused)('%s', async (_what, options, option, message) => {
    const before = process.listenerCount('SIGTERM')
    const error = await target.start({ options }).then(
      async (app) => {
        await app[Symbol.asyncDispose]()
        return null
      },
      (caught: unknown) => caught as TypeError & { code: string, option: string },
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({ code: 'ERR_GRACEFUL_INVALID_OPTION', option })
    expect(error?.message).toMatch(message)
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })

  it('the largest duration a timer holds is accepted', async () => {
    const app = await target.start({ options: { signals: false, exit: false, timeout: maxTimer, health: { liveness: '/live', readiness: '/ready', checkTimeout: maxTimer } } })
    expect(app.graceful.options.timeout).toBe(maxTimer)
    await app[Symbol.asyncDispose]()
  })
})
