import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { inProcessGraceful, listening } from '@graceful/test-kit'
import { ErrorCodes, GracefulError } from './support/errors.js'

/** An instance with a listening server attached (so its readiness delay is waited); disposing closes the server. */
async function withListener (readinessDelay: number) {
  const g = inProcessGraceful({ readinessDelay })
  const server = http.createServer((_req, res) => res.end())
  g.attach(server)
  server.listen(0, '127.0.0.1')
  const listener = await listening(server)
  return { g, [Symbol.asyncDispose]: () => listener[Symbol.asyncDispose]() }
}

// `graceful.signal` is made when first read (aborting a signal nobody holds
// would cost the trigger ~0.5 ms): whenever it is read, it says the same thing.
describe('graceful.signal', () => {
  it('read before the shutdown: aborts when the drain starts, not at the trigger', async () => {
    await using app = await withListener(100)
    const { g } = app
    const signal = g.signal
    const seen: string[] = []
    signal.addEventListener('abort', () => seen.push(`abort while ${g.state}`))
    g.on('draining', () => seen.push(`draining, aborted=${signal.aborted}`))
    g.on('drain', () => seen.push(`drain, aborted=${signal.aborted}`))
    const summary = await g.shutdown()
    // The delay was waited (a listener was attached): the abort came after it, not with the trigger.
    expect(summary.durations.readinessDelay).toBeGreaterThanOrEqual(50)
    expect(seen).toEqual(['draining, aborted=false', 'abort while draining', 'drain, aborted=true'])
    expect(signal.reason).toBeInstanceOf(GracefulError)
    expect((signal.reason as GracefulError).code).toBe(ErrorCodes.DRAINING)
    expect(g.signal).toBe(signal)
  })

  it('first read after the drain started: already aborted, with the same reason', async () => {
    const g = inProcessGraceful()
    const reasons: unknown[] = []
    g.on('drain', () => reasons.push(g.signal.reason))
    await g.shutdown()
    expect(g.signal.aborted).toBe(true)
    expect((reasons[0] as GracefulError).code).toBe(ErrorCodes.DRAINING)
    expect(g.signal.reason).toBe(reasons[0])
  })

  it('first read while accepting or during the readiness delay: not aborted', async () => {
    await using app = await withListener(50)
    const { g } = app
    let inDelay: boolean | undefined
    g.on('draining', () => { inDelay = g.signal.aborted })
    await g.shutdown()
    expect(inDelay).toBe(false)
    expect(g.signal.aborted).toBe(true)
  })
})
