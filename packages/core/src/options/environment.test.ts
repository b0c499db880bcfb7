import { afterEach, describe, expect, it, vi } from 'vitest'
import { optionsFromEnvironment, withEnvironment } from './environment.js'
import { resolveOptions } from './options.js'

afterEach(() => { vi.unstubAllEnvs() })

describe('environment configuration', () => {
  it('reads GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY; empty counts as unset', () => {
    expect(optionsFromEnvironment({ GRACEFUL_TIMEOUT: '15000', GRACEFUL_READINESS_DELAY: ' 5000 ' })).toEqual({ timeout: 15_000, readinessDelay: 5000 })
    expect(optionsFromEnvironment({ GRACEFUL_TIMEOUT: '', TIMEOUT: '1', READINESS_DELAY: '2' })).toEqual({})
  })

  it('is what resolveOptions uses, under the options given in code', () => {
    vi.stubEnv('GRACEFUL_TIMEOUT', '15000')
    vi.stubEnv('GRACEFUL_READINESS_DELAY', '5000')
    expect(resolveOptions({})).toMatchObject({ timeout: 15_000, readinessDelay: 5000 })
    expect(resolveOptions({ timeout: 20_000 })).toMatchObject({ timeout: 20_000, readinessDelay: 5000 })
    expect(resolveOptions({ readinessDelay: 0, timeout: undefined })).toMatchObject({ timeout: 15_000, readinessDelay: 0 })
  })

  it('refuses a bad value at creation, naming the variable', () => {
    for (const bad of ['15s', '-1', 'Infinity', '1e3', 'NaN']) {
      vi.stubEnv('GRACEFUL_TIMEOUT', bad)
      expect(() => resolveOptions({}), bad).toThrow(expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_GRACEFUL_INVALID_OPTION',
        option: 'GRACEFUL_TIMEOUT (environment, sets timeout)',
      }))
    }
    // A value valid alone is still checked against the other options.
    vi.stubEnv('GRACEFUL_TIMEOUT', '1000')
    vi.stubEnv('GRACEFUL_READINESS_DELAY', '5000')
    expect(() => resolveOptions({})).toThrow(expect.objectContaining({ option: 'GRACEFUL_READINESS_DELAY (environment, sets readinessDelay)' }))
  })

  it('names the variable a conflicting value came from, and reports the value it was given', () => {
    vi.stubEnv('GRACEFUL_TIMEOUT', '3000')
    vi.stubEnv('GRACEFUL_READINESS_DELAY', '5000')
    // releaseTimeout defaults to 750 here: the delay must stay under 3000 − 750.
    expect(() => resolveOptions({})).toThrow(
      'graceful: option "GRACEFUL_READINESS_DELAY (environment, sets readinessDelay)" must be less than timeout (3000 ms, from GRACEFUL_TIMEOUT) ' +
      'minus releaseTimeout (750 ms by default), leaving time to drain, received 5000')
    // Given in code, the option is named as in code.
    expect(() => resolveOptions({ readinessDelay: 5000 })).toThrow(expect.objectContaining({ option: 'readinessDelay', message: expect.stringMatching(/received 5000$/) }))
  })

  it('never mutates the options object', () => {
    const input = Object.freeze({ retryAfter: 2 })
    expect(withEnvironment(input, { GRACEFUL_TIMEOUT: '3000' })).toEqual({ retryAfter: 2, timeout: 3000 })
    expect(input).toEqual({ retryAfter: 2 })
  })
})
