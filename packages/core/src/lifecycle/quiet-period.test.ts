import { once } from 'node:events'
import http from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { afterTest, inProcessGraceful, listening, sendRequest, within } from '@graceful/test-kit'
import type { Graceful } from '../types/handle.js'
import { optionsFromEnvironment } from '../options/environment.js'
import { resolveOptions } from '../options/options.js'

async function serve (g: Graceful) {
  const server = http.createServer(g.handler((_req, res) => { res.end('ok') }))
  g.attach(server)
  server.listen(0, '127.0.0.1')
  const resource = await listening(server)
  afterTest(() => resource[Symbol.asyncDispose]())
  return resource.port
}

describe('readinessDelay as a quiet period', () => {
  it('ends after `quiet` ms of silence, not before `min`; health probes are not traffic', async () => {
    const g = inProcessGraceful({ timeout: 8000, readinessDelay: { quiet: 300, min: 1000, max: 5000 } })
    const port = await serve(g)
    let draining: unknown
    g.once('draining', (info) => { draining = info.readinessDelay })
    const summary = g.shutdown()
    // A load balancer's checks keep coming, every 50 ms, each on a new connection:
    // counted as traffic, they would hold the delay to its max.
    let done = false
    void summary.then(() => { done = true })
    let probes = 0
    const probing = (async () => {
      while (!done) {
        const reply = await sendRequest(port, '/readyz').catch(() => null)
        if (!reply) break
        expect(reply.status).toBe(503)
        probes++
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const result = await within(summary, 8000, 'the summary')
    await probing
    expect(draining).toEqual({ quiet: 300, min: 1000, max: 5000 })
    expect(result.readinessDelay.endedBy).toBe('quiet')
    expect(result.readinessDelay.ms).toBeGreaterThanOrEqual(1000)
    expect(result.readinessDelay.ms).toBeLessThan(5000)
    expect(result.durations.readinessDelay).toBe(result.readinessDelay.ms)
    expect(probes).toBeGreaterThanOrEqual(3)
  })

  it('is extended to `max` while requests keep arriving, and none is lost', async () => {
    const g = inProcessGraceful({ timeout: 8000, readinessDelay: { quiet: 1000, max: 2000 } })
    const port = await serve(g)
    const agent = new http.Agent({ keepAlive: true })
    afterTest(() => agent.destroy())
    let drainInfo: unknown
    g.once('drain', (info) => { drainInfo = info.readinessDelay })
    const started = Date.now()
    const summary = g.shutdown()
    // Traffic for 1.5 s (one request every ~20 ms, each on a new connection:
    // every response carries Connection: close), then silence shorter than `quiet`.
    const statuses: number[] = []
    while (Date.now() - started < 1500) {
      const reply = await sendRequest(port, '/', { agent })
      statuses.push(reply.status)
      expect(reply.headers.connection).toBe('close')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const result = await within(summary, 8000, 'the summary')
    expect(statuses.length).toBeGreaterThan(10)
    expect(statuses.every((status) => status === 200)).toBe(true)
    expect(result.readinessDelay.endedBy).toBe('max')
    expect(result.readinessDelay.ms).toBeGreaterThanOrEqual(2000)
    expect(drainInfo).toEqual(result.readinessDelay)
    expect(result.requests.completed).toBe(statuses.length)
    expect(result.outcome).toBe('clean')
  })

  it('counts a new connection from its acceptance, before its request arrives', async () => {
    const g = inProcessGraceful({ timeout: 8000, readinessDelay: { quiet: 800, max: 5000 } })
    const port = await serve(g)
    const started = Date.now()
    const summary = g.shutdown()
    await new Promise((resolve) => setTimeout(resolve, 200))
    // A client that connected (its request still on the way) is traffic.
    const socket = connect(port, '127.0.0.1')
    afterTest(() => socket.destroy())
    socket.on('error', () => {})
    await once(socket, 'connect')
    const connectedAt = Date.now()
    const result = await within(summary, 8000, 'the summary')
    expect(result.readinessDelay.endedBy).toBe('quiet')
    expect(result.readinessDelay.ms).toBeGreaterThanOrEqual(connectedAt - started + 800 - 20)
  })

  it('reports a fixed delay, and none, as such', async () => {
    const fixed = inProcessGraceful({ readinessDelay: 100 })
    await serve(fixed)
    expect((await fixed.shutdown()).readinessDelay).toMatchObject({ endedBy: 'fixed' })
    const none = inProcessGraceful()
    expect((await none.shutdown()).readinessDelay).toMatchObject({ endedBy: 'none' })
  })

  it.each([
    [{ quiet: 0 }, 'readinessDelay.quiet', /above 0/],
    [{ min: 100 }, 'readinessDelay.quiet', /number of milliseconds/],
    [{ quiet: 100, min: 500, max: 400 }, 'readinessDelay.min', /at most readinessDelay.max \(400 ms\)/],
    [{ quiet: 900, max: 800 }, 'readinessDelay.quiet', /could never end the delay/],
    [{ quiet: 100, max: 9000 }, 'readinessDelay.max', /less than timeout - releaseTimeout \(9000 ms\)/],
    [{ quiet: -1 }, 'readinessDelay.quiet', /non-negative/],
    [{ quiet: 100, idle: 5 }, 'readinessDelay.idle', /one of quiet, min, max/],
  ])('rejects %j naming %s', (readinessDelay, option, message) => {
    expect(() => resolveOptions({ readinessDelay: readinessDelay as never })).toThrow(expect.objectContaining({
      code: 'ERR_GRACEFUL_INVALID_OPTION', option, message: expect.stringMatching(message) as string,
    }))
  })

  it('defaults min to 0 and max to half the drain budget; the fixed delay is its max', () => {
    const resolved = resolveOptions({ timeout: 10_000, readinessDelay: { quiet: 500 } })
    expect(resolved.quietPeriod).toEqual({ quiet: 500, min: 0, max: 4500 })
    expect(resolved.readinessDelay).toBe(4500)
    expect(resolveOptions({ readinessDelay: 200 }).quietPeriod).toBeNull()
  })

  it('is read from GRACEFUL_READINESS_DELAY, and a bad value names the variable', () => {
    expect(optionsFromEnvironment({ GRACEFUL_READINESS_DELAY: 'quiet=1000, min=500,max=10000' })).toEqual({ readinessDelay: { quiet: 1000, min: 500, max: 10_000 } })
    expect(optionsFromEnvironment({ GRACEFUL_READINESS_DELAY: 'max=3000,quiet=200' })).toEqual({ readinessDelay: { quiet: 200, max: 3000 } })
    for (const bad of ['quiet=1s', 'quiet=1,quiet=2', 'calm=5', 'quiet=1;max=2']) {
      expect(() => optionsFromEnvironment({ GRACEFUL_READINESS_DELAY: bad }), bad).toThrow(expect.objectContaining({
        option: 'GRACEFUL_READINESS_DELAY (environment, sets readinessDelay)',
        message: expect.stringMatching(/quiet=1000,min=500,max=10000/) as string,
      }))
    }
    vi.stubEnv('GRACEFUL_READINESS_DELAY', 'quiet=250,max=1000')
    afterTest(() => vi.unstubAllEnvs())
    expect(resolveOptions({}).quietPeriod).toEqual({ quiet: 250, min: 0, max: 1000 })
  })
})
