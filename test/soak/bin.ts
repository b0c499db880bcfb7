// `pnpm soak [steps] [seed]`: the long reload soak (soak.ts), faults drawn at
// random (seeded, so a failing run can be replayed), then a table per fault.
import { faults, runSoak, type Fault } from './soak.js'

const steps = Number(process.argv[2] ?? 60)
const seed = Number(process.argv[3] ?? Date.now() % 100_000)

/** mulberry32: a tiny seeded PRNG, so `pnpm soak 60 <seed>` replays a run. */
function random (state: number): () => number {
  return () => {
    state = (state + 0x6D2B79F5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const next = random(seed)
// Half plain reloads, so most steps hand over; every fault at least once.
const plan: Fault[] = [...faults]
while (plan.length < steps) plan.push(next() < 0.5 ? 'reload' : faults[Math.floor(next() * faults.length)] as Fault)
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1))
  ;[plan[i], plan[j]] = [plan[j] as Fault, plan[i] as Fault]
}

console.log(`reload soak: ${steps} steps, seed ${seed}`)
const started = Date.now()
const report = await runSoak({ steps: plan, log: (line) => console.log(line) })
console.table(report.rows)
console.log(`${report.totals.requests} requests: ${report.totals.ok} ok, ${report.totals.failed} failed, ${report.totals.refused} not served while stopped on purpose (${JSON.stringify(report.totals.whileStopped)}), ${report.totals.retried} h2c streams refused by GOAWAY (unprocessed); ${((Date.now() - started) / 1000).toFixed(0)} s`)
if (report.problems.length > 0) {
  console.error(`${report.problems.length} problem(s):\n${report.problems.join('\n')}`)
  process.exitCode = 1
} else {
  console.log('no problem: no failed request, one serving process after every step, no orphan or zombie, no descriptor leaked, the PID file right')
}
