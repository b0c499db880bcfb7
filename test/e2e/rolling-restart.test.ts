// A rolling restart behind a real load balancer loses zero requests
// with graceful, and loses some without it (same HAProxy configuration).
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { exampleExists, examples } from './helpers/examples.js'
import { checks, detectionBoundMs, findHaproxy } from './helpers/haproxy.js'
import { Processes } from '@graceful/test-kit/processes'
import { haproxyBalancer, httpRollingRestart, reportRow, type RollingReport } from './helpers/rolling.js'

const haproxy = findHaproxy()
const required = process.env.CI === 'true' || process.env.CI === '1'
const missing = 'haproxy not found on PATH: install it with `apt-get install -y haproxy` (.ci/run does)'
const only = process.env.E2E_TARGETS?.split(',')
const selected = examples.filter((example) => !only || only.includes(example.name))

// The app's options, chosen by the rule deploy/README.md states: readinessDelay
// covers HAProxy's worst-case detection (fall × inter + timeout check), with margin.
const readinessDelayMs = 1500
const timeoutMs = 6000
const settings = {
  instances: 3,
  timeoutMs,
  readinessDelayMs,
  load: { fast: 4, pauseMs: 5, slow: 4, slowMs: 300 },
}

const processes = new Processes()
function haproxyBinary (): string {
  if (!haproxy) throw new Error(missing)
  return haproxy
}
const results: { target: string, mode: string, report: RollingReport }[] = []

afterEach(async () => {
  await processes.killAll()
})

afterAll(() => {
  if (results.length === 0) return
  const rows = results.map(({ target, mode, report }) => ({ target, mode, ...reportRow(report) }))
  console.log(`rolling restart behind HAProxy (${settings.instances} instances, checks every ${checks.interMs} ms):`)
  console.table(rows)
})

if (!haproxy && !required) {
  describe.skip('rolling restart behind HAProxy (haproxy not installed: apt-get install haproxy)', () => {
    it('skipped locally', () => {})
  })
} else {
  describe('rolling restart behind HAProxy', () => {
    it('haproxy is installed (.ci/run installs it)', () => {
      expect(haproxy, missing).not.toBeNull()
    })

    it('the readiness delay covers the health checks\' worst-case detection', () => {
      expect(readinessDelayMs).toBeGreaterThanOrEqual(detectionBoundMs())
    })

    describe.each(selected)('$name', (example) => {
      it('has an example app', () => {
        expect(exampleExists(example), `${example.dir}/${example.entry} is missing`).toBe(true)
      })

      it('with graceful: every request through HAProxy succeeds', { timeout: 60_000 }, async () => {
        const report = await httpRollingRestart({ example, graceful: true, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings })
        results.push({ target: example.name, mode: 'graceful', report })
        expect(report.load.failures, report.haproxyErrors.join('\n')).toEqual({})
        // The load ran through every restart, not around them.
        expect(report.duringRestart).toBeGreaterThan(100)
        // Each old instance drained cleanly and exited 0 on its own.
        expect(report.exits).toEqual(Array.from({ length: settings.instances }, () => ({ code: 0, signal: null })))
      })

      it('bare (GRACEFUL=0), same HAProxy: requests fail', { timeout: 60_000 }, async () => {
        const report = await httpRollingRestart({ example, graceful: false, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings })
        results.push({ target: example.name, mode: 'bare', report })
        expect(report.load.failed).toBeGreaterThan(0)
      })
    })
  })
}
