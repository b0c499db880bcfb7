import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import client from 'prom-client'
import { channels, type ChannelMessage, type Graceful } from '@graceful/core'
import { afterTest, deferred, inProcessGraceful, listening, openConnection, patience, within } from '@graceful/test-kit'

// The recipe of packages/core/README.md ("Prometheus with prom-client"), as written there.
function prometheus (graceful: Graceful, register: client.Registry) {
  new client.Gauge({
    name: 'graceful_ready', help: '1 while readiness answers 200', registers: [register],
    collect () { this.set(graceful.ready ? 1 : 0) },
  })
  new client.Gauge({
    name: 'graceful_in_flight_requests', help: 'Requests in flight', registers: [register],
    collect () { this.set(graceful.stats().inFlight) },
  })
  new client.Gauge({
    name: 'graceful_open_connections', help: 'Open connections', registers: [register],
    collect () { this.set(graceful.stats().sockets) },
  })
  const rejected = new client.Counter({ name: 'graceful_rejected_requests_total', help: 'Draining 503s', registers: [register] })
  const cut = new client.Counter({ name: 'graceful_cut_requests_total', help: 'Requests cut at the deadline', registers: [register] })
  const hookFailures = new client.Counter({ name: 'graceful_hook_failures_total', help: 'Hooks that failed', labelNames: ['hook', 'status'], registers: [register] })
  const phases = new client.Histogram({ name: 'graceful_phase_seconds', help: 'Each phase of a shutdown', labelNames: ['phase'], registers: [register] })

  const onHookError = (message: unknown) => {
    const result = message as ChannelMessage<'hookError'>
    if (result.graceful === graceful) hookFailures.inc({ hook: result.name, status: result.status })
  }
  const onClosed = (message: unknown) => {
    const summary = message as ChannelMessage<'closed'>
    if (summary.graceful !== graceful) return
    rejected.inc(summary.requests.rejected)
    cut.inc(summary.requests.cut)
    for (const [phase, ms] of Object.entries(summary.durations)) phases.observe({ phase }, ms / 1000)
  }
  diagnostics.subscribe(channels.hookError, onHookError)
  diagnostics.subscribe(channels.closed, onClosed)
  return () => {
    diagnostics.unsubscribe(channels.hookError, onHookError)
    diagnostics.unsubscribe(channels.closed, onClosed)
  }
}

describe('the Prometheus recipe (prom-client)', () => {
  it('exposes readiness, live counts, and a shutdown\'s 503s, cuts, hook failures and phases', async () => {
    const register = new client.Registry()
    const graceful = inProcessGraceful({ timeout: 2000, releaseTimeout: 500 })
    const held = deferred()
    afterTest(prometheus(graceful, register), () => held.resolve())
    await using app = await listening(http.createServer(graceful.handler((_req, res) => { void held.promise.then(() => res.end()) })).listen(0, '127.0.0.1'))
    graceful.attach(app.server)
    graceful.onClose(() => { throw new Error('queue gone') }, { name: 'queue' })

    await using conn = await openConnection(app.port)
    conn.send('/held')
    await vi.waitFor(() => expect(graceful.stats().inFlight).toBe(1), patience)
    let text = await register.metrics()
    expect(text).toContain('graceful_ready 1')
    expect(text).toContain('graceful_in_flight_requests 1')
    expect(text).toContain('graceful_open_connections 1')

    const summary = await within(graceful.shutdown(), 10_000, 'the summary')
    text = await register.metrics()
    expect(text).toContain('graceful_ready 0')
    expect(text).toContain(`graceful_cut_requests_total ${summary.requests.cut}`)
    expect(summary.requests.cut).toBe(1)
    expect(text).toContain('graceful_rejected_requests_total 0')
    expect(text).toContain('graceful_hook_failures_total{hook="queue",status="error"} 1')
    expect(text).toContain('graceful_phase_seconds_count{phase="drain"} 1')
    expect(text).toContain(`graceful_phase_seconds_sum{phase="total"} ${summary.durations.total / 1000}`)
  })
})
