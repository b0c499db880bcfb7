// Hot-path overhead, in pairs: per round and contender (the A/A twin, a
// second bare server, first), fresh processes of the bare server and the
// contender, both loaded at the same time for the same seconds, each one's CPU
// time read from /proc before and after. Sharing the machine at the same
// moments, the two see the same frequency, cache and neighbour noise, which
// req/s one after the other cannot. Two at a time, not the whole family: with
// seven servers and one load generator on two cores, how the load happened to
// spread decided each server's batch sizes, and so its CPU per request, more
// than the code did (A/A ratios of 0.83–1.15). A fixed request count each
// would not do either: the first done leaves the other a quieter machine.
import { cannon } from '../lib/cannon.js'
import { startServers, stopAll, type CpuSample, type ServerGroup, type ServerSpec } from '../lib/children.js'
import type { Family } from '../lib/targets.js'
import { twin } from '../lib/targets.js'

export interface OverheadConfig {
  rounds: number
  warmupSeconds: number
  /** Seconds of the CPU run (both servers at once). */
  cpuSeconds: number
  /** Seconds of the CPU run of the realistic route (`POST /order`). */
  orderSeconds: number
  connections: number
}

/** Per-round series; every ratio is "higher is better, 1 = no overhead". */
export interface OverheadSeries {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  /** Not held to the contract: why (see ServerSpec.stress). */
  stress?: string
  /** req/s of this server each pair, under the same concurrent load as the other. */
  rps: number[]
  /** µs of CPU per request each round (schedstat, all threads). */
  cpuUs: number[]
  /** The same from utime+stime in clock ticks. */
  cpuUsTicks: number[]
  /** req/s ÷ the baseline's, each round. */
  rpsRatio: number[]
  /** Baseline CPU per request ÷ this one's (requests per CPU-second ratio), each round. */
  cpuRatio: number[]
  cpuRatioTicks: number[]
  /** The realistic route (`POST /order`: JSON body parsed and serialised, ~1 ms awaited): µs of CPU per request each round. */
  orderCpuUs: number[]
  /** Baseline CPU per request ÷ this one's on the realistic route, each round. */
  orderCpuRatio: number[]
}

/** The realistic route's request: a ~1 KB JSON order. */
export const orderRequest = {
  path: '/order',
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ sku: `sku-${1000 + i}`, name: `item number ${i}`, qty: 1 + (i % 3), price: 9.99 + i })) }),
}

export interface OverheadResult {
  family: string
  /** The framework every server of the family runs on. */
  framework: string
  baseline: OverheadSeries
  /** The A/A twin: the noise floor. */
  twin: OverheadSeries
  contenders: OverheadSeries[]
  /** Rounds dropped because a run saw errors or non-2xx answers. */
  invalid: string[]
}

const series = ({ name, group, stress }: ServerSpec): OverheadSeries => ({ name, group, ...(stress ? { stress } : {}), rps: [], cpuUs: [], cpuUsTicks: [], rpsRatio: [], cpuRatio: [], cpuRatioTicks: [], orderCpuUs: [], orderCpuRatio: [] })

export async function overhead (family: Family, config: OverheadConfig, log: (line: string) => void): Promise<OverheadResult> {
  const paired = [twin(family.baseline), ...family.contenders]
  const baseline = series(family.baseline)
  const others = paired.map(series)
  const invalid: string[] = []
  const tick = 1e6 / 100 // µs per clock tick (CLK_TCK is 100 on Linux)
  const perServer = Math.max(4, Math.floor(config.connections / 2))

  for (let round = 0; round < config.rounds; round++) {
    for (const [k, spec] of paired.entries()) {
      // Which of the two starts and is loaded first alternates, so a position
      // effect lands in the spread instead of the median.
      const bareAt = (round + k) % 2
      const pair = bareAt === 0 ? [family.baseline, spec] : [spec, family.baseline]
      const started = await startServers(pair, { timeout: 10_000 })
      try {
        await Promise.all(started.map((server) => cannon(server.origin, { duration: config.warmupSeconds, connections: perServer })))
        /** Both servers loaded at once (in start order) for the same seconds; CPU per request and req/s of [bare, contender]. */
        const cpuRun = async (what: string, duration: number, request: Partial<typeof orderRequest>) => {
          const before = started.map((server) => server.cpu())
          const both = await Promise.all(started.map(async (server, i) => {
            const result = await cannon(server.origin, { duration, connections: perServer, ...request })
            const after = server.cpu()
            if (result.errors + result.non2xx > 0) invalid.push(`round ${round + 1} ${what} ${server.name}: ${result.errors} errors, ${result.non2xx} non-2xx`)
            return { ...perRequest(before[i]!, after, result.total, tick), rps: result.rps }
          }))
          return [both[bareAt]!, both[1 - bareAt]!]
        }
        const [bareCpu, cpu] = await cpuRun('CPU', config.cpuSeconds, {})
        const [bareOrder, order] = await cpuRun('CPU /order', config.orderSeconds, orderRequest)
        const entry = others[k]!
        baseline.rps.push(bareCpu!.rps)
        baseline.cpuUs.push(bareCpu!.us)
        baseline.cpuUsTicks.push(bareCpu!.usTicks)
        baseline.orderCpuUs.push(bareOrder!.us)
        entry.rps.push(cpu!.rps)
        entry.cpuUs.push(cpu!.us)
        entry.cpuUsTicks.push(cpu!.usTicks)
        entry.orderCpuUs.push(order!.us)
        entry.rpsRatio.push(cpu!.rps / bareCpu!.rps)
        entry.cpuRatio.push(bareCpu!.us / cpu!.us)
        entry.cpuRatioTicks.push(bareCpu!.usTicks / cpu!.usTicks)
        entry.orderCpuRatio.push(bareOrder!.us / order!.us)
        log(`overhead ${family.name} round ${round + 1}/${config.rounds}: ${entry.name} CPU ×${entry.cpuRatio.at(-1)!.toFixed(3)} /order CPU ×${entry.orderCpuRatio.at(-1)!.toFixed(3)}`)
      } finally {
        await stopAll(started)
      }
    }
  }
  return { family: family.name, framework: family.framework, baseline, twin: others[0]!, contenders: others.slice(1), invalid }
}

function perRequest (before: CpuSample, after: CpuSample, requests: number, tickUs: number) {
  return {
    us: (after.ns - before.ns) / 1000 / requests,
    usTicks: (after.ticks - before.ticks) * tickUs / requests,
  }
}
