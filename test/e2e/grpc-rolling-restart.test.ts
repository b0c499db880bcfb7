// Issue 13: a rolling restart of a gRPC service behind HAProxy (h2 end to end)
// loses and replays zero calls with graceful; without it (same HAProxy configuration)
// calls in flight on the killed instance are lost. HAProxy answers each of those with
// RST_STREAM REFUSED_STREAM, and grpc-js (transparent retry, on by default) sends it
// again: with a default client the gap shows as calls run twice, with retries off as
// UNAVAILABLE failures.
import { afterAll, afterEach, expect, it } from 'vitest'
import { grpcRollingRestart, type GrpcRollingReport } from './helpers/grpc-rolling.js'
import { checks, describeBehindHaproxy, haproxyRoll } from './helpers/haproxy.js'
import { Processes } from '@graceful/test-kit/processes'

// The same budget as the HTTP test.
const settings = { ...haproxyRoll, load: { fast: 4, pauseMs: 5, slow: 6, slowMs: 300 } }

const processes = new Processes()
const results: { mode: string, retries: boolean, report: GrpcRollingReport }[] = []

afterEach(async () => {
  await processes.killAll()
})

afterAll(() => {
  if (results.length === 0) return
  const rows = results.map(({ mode, retries, report }) => ({
    mode,
    'client retries': retries ? 'default (on)' : 'off',
    calls: report.load.requests,
    'during restarts': report.duringRestart,
    failed: report.load.failed,
    failures: JSON.stringify(report.load.failures),
    'ran twice': report.replayed,
    exits: report.exits.map((exit) => exit.signal ?? exit.code).join(' '),
    seconds: (report.ms / 1000).toFixed(1),
  }))
  console.log(`gRPC rolling restart behind HAProxy, h2 (${settings.instances} instances, checks every ${checks.interMs} ms):`)
  console.table(rows)
})

describeBehindHaproxy('gRPC rolling restart behind HAProxy', (haproxyBinary) => {
  it('with graceful: every call through HAProxy succeeds, none runs twice', { timeout: 60_000 }, async () => {
    const report = await grpcRollingRestart({ graceful: true, haproxy: haproxyBinary(), processes, ...settings, load: { ...settings.load, retries: true } })
    results.push({ mode: 'graceful', retries: true, report })
    expect(report.load.failures, report.haproxyErrors.join('\n')).toEqual({})
    expect(report.replayed).toBe(0)
    // The load ran through every restart, not around them.
    expect(report.duringRestart).toBeGreaterThan(100)
    // Each old instance drained cleanly and exited 0 on its own.
    expect(report.exits).toEqual(Array.from({ length: settings.instances }, () => ({ code: 0, signal: null })))
  })

  it('bare (GRACEFUL=0), default client: calls in flight on the killed instance run twice', { timeout: 60_000 }, async () => {
    const report = await grpcRollingRestart({ graceful: false, haproxy: haproxyBinary(), processes, ...settings, load: { ...settings.load, retries: true } })
    results.push({ mode: 'bare', retries: true, report })
    expect(report.load.failed + report.replayed).toBeGreaterThan(0)
  })

  it('bare (GRACEFUL=0), client without retries: calls fail', { timeout: 60_000 }, async () => {
    const report = await grpcRollingRestart({ graceful: false, haproxy: haproxyBinary(), processes, ...settings, load: { ...settings.load, retries: false } })
    results.push({ mode: 'bare', retries: false, report })
    expect(report.load.failed).toBeGreaterThan(0)
  })
})
