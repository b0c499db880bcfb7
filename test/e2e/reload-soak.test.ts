// The short reload soak (test/soak/soak.ts; `pnpm soak` runs the long one):
// every fault once, between plain reloads, under HTTP/1 and h2c load.
import { describe, expect, it } from 'vitest'
import { runSoak, type Fault } from '../soak/soak.js'

const steps: Fault[] = [
  'reload', 'throws at boot', 'reload', 'killed while booting', 'spawn failure', 'reload', 'SIGHUP burst',
  'never ready', 'reload', 'SIGTERM mid-reload', 'reload', 'throws at boot', 'SIGHUP burst', 'killed while booting', 'reload',
]

describe('reload soak (short)', () => {
  it(`${steps.length} steps: no failed request, one serving process, nothing left over, no descriptor leaked, the PID file right`, { timeout: 150_000 }, async () => {
    const report = await runSoak({ steps, reloadTimeoutMs: 8000 })
    console.table(report.rows)
    expect(report.problems).toEqual([])
    expect(report.totals.failed).toBe(0)
    expect(report.totals.ok).toBeGreaterThan(steps.length * 20)
  })
})
