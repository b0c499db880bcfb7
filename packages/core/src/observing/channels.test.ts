import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { deferred, inProcessGraceful, listening, openConnection, patience, within } from '@graceful/test-kit'
import { channels } from '../index.js'

function subscribeAll (): { name: string, message: Record<string, unknown> }[] {
  const seen: { name: string, message: Record<string, unknown> }[] = []
  for (const name of Object.values(channels)) {
    const listener = (message: unknown) => { seen.push({ name, message: message as Record<string, unknown> }) }
    diagnostics.subscribe(name, listener)
    onTestFinished(() => { diagnostics.unsubscribe(name, listener) })
  }
  return seen
}

describe('diagnostics_channel', () => {
  it('names a channel per event, graceful:<event>', () => {
    expect(channels).toEqual({
      draining: 'graceful:draining',
      drain: 'graceful:drain',
      drained: 'graceful:drained',
      timeout: 'graceful:timeout',
      hookError: 'graceful:hook-error',
      closed: 'graceful:closed',
      reload: 'graceful:reload',
      reloadFailed: 'graceful:reload-failed',
      paused: 'graceful:paused',
      resumed: 'graceful:resumed',
    })
  })

  it('publishes every transition and notable moment, each with the instance', async () => {
    const seen = subscribeAll()
    const graceful = inProcessGraceful({ timeout: 2000, releaseTimeout: 500 })
    const held = deferred()
    await using app = await listening(http.createServer(graceful.handler((_req, res) => { void held.promise.then(() => res.end('late')) })).listen(0, '127.0.0.1'))
    graceful.attach(app.server)
    graceful.onClose(() => { throw new Error('db gone') }, { name: 'db' })
    graceful.pause('check')
    graceful.resume()
    await using conn = await openConnection(app.port)
    conn.send('/held')
    await vi.waitFor(() => expect(graceful.stats().inFlight).toBe(1), patience)
    const summary = await within(graceful.shutdown('test'), 10_000, 'the summary')
    held.resolve()

    expect(seen.map((s) => s.name)).toEqual([
      'graceful:paused', 'graceful:resumed', 'graceful:draining', 'graceful:drain', 'graceful:timeout', 'graceful:hook-error', 'graceful:closed',
    ])
    for (const { message } of seen) expect(message.graceful).toBe(graceful)
    expect(seen[0]!.message).toMatchObject({ reason: 'check', state: 'accepting' })
    expect(seen[2]!.message).toMatchObject({ trigger: 'test', state: 'draining', inFlight: 1 })
    expect(seen[4]!.message).toMatchObject({ cut: [expect.objectContaining({ url: '/held', action: 'rejected' })] })
    expect(seen[5]!.message).toMatchObject({ name: 'db', kind: 'release', status: 'error' })
    expect(seen[6]!.message).toMatchObject({ outcome: summary.outcome, requests: summary.requests })
  })

  it('publishes nothing when nobody subscribes', async () => {
    const spies = Object.values(channels).map((name) => vi.spyOn(diagnostics.channel(name), 'publish'))
    const graceful = inProcessGraceful()
    graceful.pause()
    graceful.resume()
    await graceful.shutdown()
    for (const spy of spies) expect(spy).not.toHaveBeenCalled()
    // Before subscribing: Node swaps the channel's prototype then, and a spy would shadow the active publish.
    for (const spy of spies) spy.mockRestore()
    // The same run with one subscriber publishes.
    const seen = subscribeAll()
    const other = inProcessGraceful()
    await other.shutdown()
    expect(seen.map((s) => s.name)).toEqual(['graceful:draining', 'graceful:drain', 'graceful:drained', 'graceful:closed'])
  })
})
