import { afterEach, describe, expect, it, vi } from 'vitest'
import { adapterView } from '../adapter-view.js'
import { createGraceful } from '../graceful.js'
import { resolveOptions } from './options.js'
import type { GracefulOptions } from '../types/options.js'

const noSignals = { signals: false } as const

describe('options', () => {
  it('applies the documented defaults', () => {
    const options = resolveOptions({})
    expect(options).toMatchObject({
      timeout: 10_000,
      readinessDelay: 0,
      releaseTimeout: 1000,
      retryAfter: 1,
      rejectedBodyLimit: 64 * 1024 * 1024,
      signals: ['SIGTERM', 'SIGINT'],
      exit: true,
      handleFatalErrors: false,
      readyWhen: 'listening',
      health: { liveness: '/livez', readiness: '/readyz', checkTimeout: 1000, detail: false },
    })
    expect(resolveOptions({ timeout: 2000 }).releaseTimeout).toBe(500)
  })

  it('never mutates the caller’s object', () => {
    const input: GracefulOptions = Object.freeze({ timeout: 3000, health: Object.freeze({ readiness: '/ready' }) })
    const resolved = resolveOptions(input)
    expect(resolved.health.readiness).toBe('/ready')
    expect(input).toEqual({ timeout: 3000, health: { readiness: '/ready' } })
  })

  it.each([
    [{ timeout: -1 }, 'timeout', /finite, non-negative number/],
    [{ timeout: Number.POSITIVE_INFINITY }, 'timeout', /finite/],
    [{ timeout: Number.NaN }, 'timeout', /finite/],
    [{ timeout: '10s' }, 'timeout', /received "10s"/],
    [{ timeout: 0 }, 'timeout', /above 0/],
    [{ readinessDelay: -5 }, 'readinessDelay', /non-negative/],
    [{ readinessDelay: 10_000 }, 'readinessDelay', /less than timeout \(10000 ms\)/],
    [{ readinessDelay: 5000, releaseTimeout: 5000 }, 'readinessDelay + releaseTimeout', /less than timeout/],
    [{ signals: ['SIGTERM', 'SIGNOPE'] }, 'signals', /received "SIGNOPE"/],
    [{ signals: ['SIGKILL'] }, 'signals', /catchable/],
    [{ signals: 'SIGTERM' }, 'signals', /array of signal names or false/],
    [{ exit: 'yes' }, 'exit', /a boolean/],
    [{ logger: { info: () => {} } }, 'logger', /pino-shaped/],
    [{ logger: 'pino' }, 'logger', /NestJS Logger/],
    [{ health: { readiness: 'ready' } }, 'health.readiness', /starting with "\/"/],
    [{ health: { livez: '/x' } }, 'health.livez', /one of liveness/],
    [{ health: { checks: { db: 1 } } }, 'health.checks', /object of functions/],
    [{ readyWhen: 'now' }, 'readyWhen', /"listening", "manual"/],
    [{ onCut: 'log' }, 'onCut', /a function/],
    [{ rejectedBodyLimit: -1 }, 'rejectedBodyLimit', /whole, non-negative number of bytes/],
    [{ rejectedBodyLimit: 1.5 }, 'rejectedBodyLimit', /whole/],
    [{ rejectedBodyLimit: Number.POSITIVE_INFINITY }, 'rejectedBodyLimit', /whole/],
    [{ rejectedBodyLimit: '1MB' }, 'rejectedBodyLimit', /received "1MB"/],
    [{ timout: 5000 }, 'timout', /one of the known options/],
    [{ health: { port: 70_000 } }, 'health.port', /port number from 0 to 65535/],
    [{ health: { port: 1.5 } }, 'health.port', /port number/],
    [{ health: { host: '0.0.0.0' } }, 'health.host', /without health.port/],
    [{ health: { port: 9000, host: '' } }, 'health.host', /host name or address/],
    [{ control: { port: 9001 } }, 'control.token', /at least 16 characters/],
    [{ control: { token: 'short-secret', port: 9001 } }, 'control.token', /received "12 characters"/],
    [{ control: { token: 'x'.repeat(32) } }, 'control.port', /port number/],
    [{ control: { token: 'x'.repeat(32), port: 9001, path: '/admin' } }, 'control.path', /one of token, port, host/],
    [{ control: 'on' }, 'control', /an object/],
    [{ health: { port: 9000 }, control: { token: 'x'.repeat(32), port: 9000 } }, 'control.port', /other than health.port \(9000\)/],
  ])('rejects %j naming %s', (input, option, message) => {
    let caught: unknown
    try {
      createGraceful({ ...noSignals, ...input } as GracefulOptions)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(TypeError)
    expect(caught).toMatchObject({ code: 'ERR_GRACEFUL_INVALID_OPTION', option })
    expect((caught as Error).message).toContain(`"${option}"`)
    expect((caught as Error).message).toMatch(message)
  })

  it('starts nothing when an option is bad: no signal listener is left behind', () => {
    const before = process.listenerCount('SIGTERM')
    expect(() => createGraceful({ timeout: -1 })).toThrow(TypeError)
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })

  it('health.port turns the app routes off and keeps the paths for its own listener; the control token is kept as a digest only', () => {
    const options = resolveOptions({ health: { port: 9000, readiness: '/ready' }, control: { token: 'x'.repeat(32), port: 9001, host: '::' } })
    expect(options.health).toMatchObject({ liveness: false, readiness: false })
    expect(options.healthListener).toEqual({ port: 9000, host: undefined, liveness: '/livez', readiness: '/ready' })
    // One listener may carry both when port and host agree.
    expect(resolveOptions({ health: { port: 9000, host: '::' }, control: { token: 'x'.repeat(32), port: 9000, host: '::' } }).control?.port).toBe(9000)
    expect(options.control).toMatchObject({ port: 9001, host: '::' })
    expect(JSON.stringify(options)).not.toContain('x'.repeat(32))
    expect(resolveOptions({ control: { token: 'x'.repeat(32), port: 9001 } }).control?.host).toBe('127.0.0.1')
  })

  it('lets adapters add their own keys', () => {
    expect(() => resolveOptions({ prefix: '/x' } as GracefulOptions, ['prefix'])).not.toThrow()
  })
})

describe('the budget: timeout = readinessDelay + drain + releaseTimeout', () => {
  afterEach(() => { vi.useRealTimers() })

  it.each([
    [{ timeout: 1000, readinessDelay: 749 }, null],
    [{ timeout: 1000, readinessDelay: 750 }, 'readinessDelay'],
    [{ timeout: 1000, readinessDelay: 500, releaseTimeout: 499 }, null],
    [{ timeout: 1000, readinessDelay: 500, releaseTimeout: 500 }, 'readinessDelay + releaseTimeout'],
    [{ timeout: 1000, readinessDelay: 0, releaseTimeout: 1000 }, 'readinessDelay + releaseTimeout'],
  ])('readinessDelay + releaseTimeout < timeout, to the millisecond: %j', (input, option) => {
    // releaseTimeout defaults to min(1000, timeout / 4): 250 here.
    if (option === null) expect(() => resolveOptions(input)).not.toThrow()
    else expect(() => resolveOptions(input)).toThrow(expect.objectContaining({ option }))
  })

  it('on fake time: the delay, the drain until timeout − releaseTimeout, then the release hooks share the rest', async () => {
    vi.useFakeTimers({ now: 0 })
    const g = createGraceful({ ...noSignals, exit: false, logger: false, timeout: 1000, readinessDelay: 300, releaseTimeout: 200 })
    // Something serving that a load balancer could still route to, and a probe seen: the delay applies.
    adapterView(g).attachExternal('test')
    await g.readiness()
    const at: Record<string, number> = {}
    for (const event of ['draining', 'drain', 'timeout', 'closed'] as const) g.on(event, () => { at[event] = Date.now() })
    void g.track(() => new Promise(() => {}), { name: 'endless' })
    g.onClose(() => new Promise(() => {}), { name: 'first' })
    g.onClose(() => new Promise(() => {}), { name: 'second' })

    const summary = g.shutdown()
    await vi.advanceTimersByTimeAsync(1000)
    const result = await summary
    expect(at).toEqual({ draining: 0, drain: 300, timeout: 800, closed: 1000 })
    expect(result.durations).toEqual({ readinessDelay: 300, drain: 500, release: 200, total: 1000 })
    expect(result.holding).toEqual(['task endless'])
    expect(result.hooks.map((h) => [h.name, h.status, h.durationMs])).toEqual([['second', 'timeout', 100], ['first', 'timeout', 100]])
    expect(result.exitCode).toBe(124)
  })
})
