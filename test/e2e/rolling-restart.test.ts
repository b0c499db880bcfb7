// A rolling restart behind a real load balancer loses zero requests
// with graceful, and loses some without it (same HAProxy configuration).
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { exampleExists, examples } from './helpers/examples.js'
import { checks, describeBehindHaproxy, haproxyRoll } from './helpers/haproxy.js'
import { Processes } from '@graceful/test-kit/processes'
import { haproxyBalancer, httpRollingRestart, reportRow, type RollingReport } from './helpers/rolling.js'

const only = process.env.E2E_TARGETS?.split(',')
const selected = examples.filter((example) => !only || only.includes(example.name))

const { readinessDelayMs } = haproxyRoll
const settings = { ...haproxyRoll, load: { fast: 4, pauseMs: 5, slow: 4, slowMs: 300 } }

const processes = new Processes()
const results: { target: string, mode: string, report: RollingReport }[] = []
// The fixed-delay roll of each example, reused as the quiet period's baseline (one roll fewer).
const fixedRolls = new Map<string, RollingReport>()
// The adaptive delay: HAProxy stops routing within one check (~200 ms), then 500 ms of
// silence end the delay; never longer than the fixed delay above.
const quietPeriod = `quiet=500,max=${readinessDelayMs}`
const adaptiveTarget = selected.find((example) => example.name === 'express') ?? selected[0]

/** How each stopped instance's readiness delay ended, from its `graceful: closed` log line. */
function delaysOf (report: RollingReport): string[] {
  return report.started.flatMap((started) => started.output().split('\n'))
    .filter((line) => line.includes('"graceful: closed"'))
    .map((line) => {
      const delay = (JSON.parse(line.slice(line.indexOf('{'))) as { readinessDelay?: { ms: number, endedBy: string } }).readinessDelay
      return delay ? `${delay.ms} ms (${delay.endedBy})` : '?'
    })
}

afterEach(async () => {
  await processes.killAll()
})

afterAll(() => {
  if (results.length === 0) return
  const rows = results.map(({ target, mode, report }) => ({ target, mode, ...reportRow(report) }))
  console.log(`rolling restart behind HAProxy (${settings.instances} instances, checks every ${checks.interMs} ms):`)
  console.table(rows)
})

describeBehindHaproxy('rolling restart behind HAProxy', (haproxyBinary) => {
  describe.each(selected)('$name', (example) => {
    it('has an example app', () => {
      expect(exampleExists(example), `${example.dir}/${example.entry} is missing`).toBe(true)
    })

    it('with graceful: every request through HAProxy succeeds', { timeout: 60_000 }, async () => {
      const report = await httpRollingRestart({ example, graceful: true, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings })
      results.push({ target: example.name, mode: 'graceful', report })
      fixedRolls.set(example.name, report)
      expect(report.load.failures, report.haproxyErrors.join('\n')).toEqual({})
      // The load ran through every restart, not around them.
      expect(report.duringRestart).toBeGreaterThan(100)
      // Each old instance drained cleanly and exited 0 on its own.
      expect(report.exits).toEqual(Array.from({ length: settings.instances }, () => ({ code: 0, signal: null })))
    })

    it.runIf(example === adaptiveTarget)('a quiet-period readiness delay loses nothing and rolls faster than the fixed one', { timeout: 120_000 }, async () => {
      let fixed = fixedRolls.get(example.name)
      if (!fixed) {
        fixed = await httpRollingRestart({ example, graceful: true, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings })
        results.push({ target: example.name, mode: `fixed ${readinessDelayMs} ms`, report: fixed })
      }
      const adaptive = await httpRollingRestart({ example, graceful: true, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings, readinessDelay: quietPeriod })
      results.push({ target: example.name, mode: `quiet period (${quietPeriod})`, report: adaptive })
      const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
      console.log(`roll of ${settings.instances} instances (${example.name}): fixed readinessDelay ${readinessDelayMs} ms: ${(fixed.ms / 1000).toFixed(1)} s ` +
        `(SIGTERM→exit ${fixed.stops.join(', ')} ms; delays ${delaysOf(fixed).join(', ')}); ` +
        `quiet period ${quietPeriod}: ${(adaptive.ms / 1000).toFixed(1)} s (SIGTERM→exit ${adaptive.stops.join(', ')} ms; delays ${delaysOf(adaptive).join(', ')})`)
      for (const report of [fixed, adaptive]) {
        expect(report.load.failures, report.haproxyErrors.join('\n')).toEqual({})
        expect(report.exits).toEqual(Array.from({ length: settings.instances }, () => ({ code: 0, signal: null })))
      }
      // Every stop ended on silence, not at max; the instances were out of the roll sooner.
      expect(delaysOf(adaptive).every((delay) => delay.endsWith('(quiet)'))).toBe(true)
      expect(sum(adaptive.stops)).toBeLessThan(sum(fixed.stops))
    })

    it('bare (GRACEFUL=0), same HAProxy: requests fail', { timeout: 60_000 }, async () => {
      const report = await httpRollingRestart({ example, graceful: false, balancer: haproxyBalancer(haproxyBinary(), processes), processes, ...settings })
      results.push({ target: example.name, mode: 'bare', report })
      expect(report.load.failed).toBeGreaterThan(0)
    })
  })
})
