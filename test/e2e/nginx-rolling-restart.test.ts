// A rolling restart behind open-source nginx, with the configuration deploy/README.md
// recommends, loses zero requests with graceful (GET and POST), and loses some without
// it (same nginx). nginx reads no health endpoint: instances restart in place (the
// same port, as under Docker, Compose or systemd), and nginx learns of each restart
// only from failed connections.
import { afterAll, afterEach, expect, it } from 'vitest'
import { Processes } from '@graceful/test-kit/processes'
import { exampleOf } from '@graceful/test-kit/examples'
import { describeWithBinary } from './helpers/binaries.js'
import { findNginx, nginxBalancer, upstream } from './helpers/nginx.js'
import { httpRollingRestart, reportRow, type RollingReport } from './helpers/rolling.js'

// Small: nginx never probes readiness, so the delay only has to cover the requests
// nginx already routed when SIGTERM came. The pause between instances (the balancer's
// `replace`) is fail_timeout, so a restarted instance is back in rotation first.
const settings = {
  instances: 3,
  timeoutMs: 6000,
  readinessDelayMs: 300,
  inPlace: true,
  load: { fast: 4, pauseMs: 5, slow: 2, slowMs: 300, posts: 4 },
}
// The example whose /slow answers any method: POSTs in flight at each restart.
const example = exampleOf('node:http')

const processes = new Processes()
const results: { mode: string, report: RollingReport }[] = []

afterEach(async () => {
  processes.killAdopted()
  await processes.killAll()
})

afterAll(() => {
  if (results.length === 0) return
  console.log(`rolling restart behind nginx (${settings.instances} instances, max_fails=${upstream.maxFails} fail_timeout=${upstream.failTimeoutMs} ms, readinessDelay ${settings.readinessDelayMs} ms):`)
  console.table(results.map(({ mode, report }) => ({ mode, ...reportRow(report) })))
})

describeWithBinary('nginx', findNginx(), 'rolling restart behind nginx, GET and POST load', (nginxBinary) => {
  it('with graceful: every request through nginx succeeds', { timeout: 60_000 }, async () => {
    const report = await httpRollingRestart({ example, graceful: true, balancer: nginxBalancer(nginxBinary(), processes), processes, ...settings })
    results.push({ mode: 'graceful', report })
    expect(report.load.failures, report.haproxyErrors.join('\n')).toEqual({})
    expect(report.duringRestart).toBeGreaterThan(100)
    expect(report.exits).toEqual(Array.from({ length: settings.instances }, () => ({ code: 0, signal: null })))
  })

  it('bare (GRACEFUL=0), same nginx: requests fail (the POSTs in flight; nginx replays only GETs)', { timeout: 60_000 }, async () => {
    const report = await httpRollingRestart({ example, graceful: false, balancer: nginxBalancer(nginxBinary(), processes), processes, ...settings })
    results.push({ mode: 'bare', report })
    expect(report.load.failed, report.haproxyErrors.join('\n')).toBeGreaterThan(0)
  })
})
