// Hot-path overhead. Per family and round, fresh processes: the bare server,
// a second bare server (the A/A twin) and every contender.
// 1. req/s: autocannon on one server at a time, in an order rotated each round.
// 2. CPU time per request: every server of the round loaded at the same time
//    for the same seconds, its CPU time read from /proc before and after.
//    Sharing the machine at the same moment, the servers see the same
//    frequency, cache and neighbour noise, which req/s in turn cannot. A
//    fixed request count each would not: the first server done leaves the
//    others a quieter machine, and the order decides who gets it.
import { cannon } from '../lib/cannon.js'
import { startServers, stopAll, type CpuSample, type ServerGroup, type ServerSpec } from '../lib/children.js'
import type { Family } from '../lib/targets.js'
import { twin } from '../lib/targets.js'

export interface OverheadConfig {
  rounds: number
  warmupSeconds: number
  rpsSeconds: number
  /** Seconds of the CPU run (all servers at once). */
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
  /** req/s of this server each round. */
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

const series = ({ name, group }: ServerSpec): OverheadSeries => ({ name, group, rps: [], cpuUs: [], cpuUsTicks: [], rpsRatio: [], cpuRatio: [], cpuRatioTicks: [], orderCpuUs: [], orderCpuRatio: [] })

export async function overhead (family: Family, config: OverheadConfig, log: (line: string) => void): Promise<OverheadResult> {
  const specs = [family.baseline, twin(family.baseline), ...family.contenders]
  const all = specs.map(series)
  const invalid: string[] = []
  const tick = 1e6 / 100 // µs per clock tick (CLK_TCK is 100 on Linux)

  for (let round = 0; round < config.rounds; round++) {
    // Rotate which server is started, loaded and read first: position effects
    // (start order, the order of the load generator's sockets) then land in
    // the spread instead of biasing the median.
    const order = specs.map((_, k) => (k + round) % specs.length)
    const started = await startServers(order.map((i) => specs[i]!), { timeout: 10_000 })
    const servers = specs.map((_, i) => started[order.indexOf(i)]!)
    try {
      await Promise.all(servers.map((server) => cannon(server.origin, { duration: config.warmupSeconds, connections: config.connections })))

      const rps: number[] = new Array<number>(servers.length).fill(NaN)
      for (const i of order) {
        const result = await cannon(servers[i]!.origin, { duration: config.rpsSeconds, connections: config.connections })
        if (result.errors + result.non2xx > 0) invalid.push(`round ${round + 1} req/s ${specs[i]!.name}: ${result.errors} errors, ${result.non2xx} non-2xx`)
        rps[i] = result.rps
      }

      const perServer = Math.max(4, Math.floor(config.connections / servers.length))
      /** Every server loaded at once for the same seconds; CPU per request of each. */
      const cpuRun = async (what: string, duration: number, request: Partial<typeof orderRequest>) => {
        const before = servers.map((server) => server.cpu())
        const cpu: { us: number, usTicks: number }[] = []
        await Promise.all(order.map(async (i) => {
          const server = servers[i]!
          const result = await cannon(server.origin, { duration, connections: perServer, ...request })
          const after = server.cpu()
          if (result.errors + result.non2xx > 0) invalid.push(`round ${round + 1} ${what} ${specs[i]!.name}: ${result.errors} errors, ${result.non2xx} non-2xx`)
          cpu[i] = perRequest(before[i]!, after, result.total, tick)
        }))
        return cpu
      }
      const cpu = await cpuRun('CPU', config.cpuSeconds, {})
      const orderCpu = await cpuRun('CPU /order', config.orderSeconds, orderRequest)

      servers.forEach((_, i) => {
        all[i]!.rps.push(rps[i]!)
        all[i]!.cpuUs.push(cpu[i]!.us)
        all[i]!.cpuUsTicks.push(cpu[i]!.usTicks)
        all[i]!.orderCpuUs.push(orderCpu[i]!.us)
      })
      for (const [i, entry] of all.entries()) {
        if (i === 0) continue
        entry.rpsRatio.push(rps[i]! / rps[0]!)
        entry.cpuRatio.push(cpu[0]!.us / cpu[i]!.us)
        entry.cpuRatioTicks.push(cpu[0]!.usTicks / cpu[i]!.usTicks)
        entry.orderCpuRatio.push(orderCpu[0]!.us / orderCpu[i]!.us)
      }
      log(`overhead ${family.name} round ${round + 1}/${config.rounds}: ` + all.slice(1).map((s) => `${s.name} req/s ×${s.rpsRatio.at(-1)!.toFixed(3)} CPU ×${s.cpuRatio.at(-1)!.toFixed(3)} /order CPU ×${s.orderCpuRatio.at(-1)!.toFixed(3)}`).join(', '))
    } finally {
      await stopAll(started)
    }
  }
  return { family: family.name, framework: family.framework, baseline: all[0]!, twin: all[1]!, contenders: all.slice(2), invalid }
}

function perRequest (before: CpuSample, after: CpuSample, requests: number, tickUs: number) {
  return {
    us: (after.ns - before.ns) / 1000 / requests,
    usTicks: (after.ticks - before.ticks) * tickUs / requests,
  }
}
