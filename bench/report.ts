// Renders bench/RESULTS.md from the results of one `pnpm bench` run.
import type { ServerGroup } from './lib/children.js'
import { outcomeLabels, outcomes } from '@graceful/test-kit/client'
import type { DrainResult } from './lib/drain.js'
import { bytes, int, markdownTable, median, ms, ratio, spread, type Table } from './lib/format.js'
import type { Machine } from './lib/machine.js'
import { longSections, type Section } from './lib/sections.js'
import type { TimelineRow } from './lib/svg.js'
import { exitAtOnceName } from './lib/targets.js'
import type { HeapResult } from './scenarios/heap.js'
import type { IdleResult, IdleTrial } from './scenarios/idle.js'
import type { OverheadResult, OverheadSeries } from './scenarios/overhead.js'
import type { ReloadResult } from './scenarios/reload.js'
import type { ProtocolResults } from './scenarios/protocols.js'
import type { FleetResults } from './scenarios/fleet.js'
import type { ScaleResult } from './scenarios/scale.js'
import type { SecondSignalResult } from './scenarios/second-signal.js'

export interface BenchResults {
  machine: Machine
  config: unknown
  /** Written by `pnpm bench --long` (absent from results written before it existed: those ran everything). */
  long?: boolean
  /** The sections this run measured (absent from results written before it existed). */
  ran?: Section[]
  notes: string[]
  minutes: number
  overhead: OverheadResult[]
  idle: IdleResult[]
  drain: Omit<DrainResult, 'attempts'>[]
  secondSignal: SecondSignalResult[]
  scale: ScaleResult[]
  heap: HeapResult[]
  /** WebSocket, SSE and HTTP/2 GOAWAY (absent from runs before they existed). */
  protocols?: ProtocolResults
  /** The drain timeline's points, so `--render` can redraw the chart. */
  timeline: TimelineRow[]
  /** In-place restart next to a stop-and-start (absent from results written before it existed). */
  reload?: ReloadResult[]
  /** Quiet period and spread goodbye (absent from results written before they existed). */
  fleet?: FleetResults
}

// Rows are told apart by the group their server was started in (bench/lib/targets.ts), never by their names.
const ours = (server: { group: ServerGroup }) => server.group === 'graceful'
const bare = (server: { group: ServerGroup }) => server.group === 'bare'
const pm = (values: number[], format: (n: number) => string) => values.length > 1 ? `${format(median(values))} (${spread(values, format)})` : values.length === 1 ? format(values[0]!) : '–'
const verdict = (ok: boolean) => ok ? 'met' : '**missed**'

/**
 * The exit rows (after the last response, after a second signal): the
 * contract is on the time to the process's exit (its `'exit'` event); what
 * follows is the kernel freeing the process (~10 ms per 100 MB of memory here,
 * plus the sockets still open), which a SIGKILL at that moment costs as well.
 * Both are shown.
 */
function exitRow (what: string, toExitMs: number | null, teardownMs: number | null | undefined, detail = ''): string[] {
  const teardown = teardownMs ?? null
  const measured = toExitMs === null ? '–' : `${ms(toExitMs)}; the process gone ${ms(toExitMs + (teardown ?? 0))} after it (kernel teardown ${ms(teardown)})${detail}`
  return [what, '≤ 10 ms to the exit', measured, verdict((toExitMs ?? Infinity) <= 10)]
}

/** The heading of the long trials' block: the last block of RESULTS.md, kept by a default run, replaced by a long one. */
export const longTrialsHeading = '## Long trials'

/** The machine, the date and the code a run measured, one line each. */
function provenance (r: BenchResults, command: string): string[] {
  const m = r.machine
  return [
    `Written by \`${command}\` (${r.minutes.toFixed(1)} min). Method and how to run: [README.md](README.md).`,
    '',
    `- **Machine:** ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${m.memory} memory, ${m.kernel}; load average at start ${m.load}; \`ulimit -n\` ${m.files.soft}`,
    `- **Node:** ${m.node}`,
    `- **Date:** ${m.date}; **code:** ${m.code ?? 'not recorded'}`,
    ...r.notes.map((note) => `- ${note}`),
    '',
  ]
}

/**
 * RESULTS.md of a default run: the hot path, the drain, the second signal, the
 * in-place restart, the protocols. `longTrialsBelow`: the last long run's block
 * follows (its figures are pointed to instead of only "not run").
 */
export function renderResults (r: BenchResults, longTrialsBelow: boolean): string {
  const out: string[] = []
  out.push('# Benchmark results', '')
  out.push(...provenance(r, 'pnpm bench'))
  out.push('All traffic on 127.0.0.1; clients and servers share the same cores, so absolute figures are low and noisy: read the ratios, the bare baselines and the A/A rows beside them. Idle shutdown, scale and heap are the long trials: `pnpm bench --long`, in their own block at the end, with their own date and code.', '')
  out.push('Chart: [drain timeline](drain-timeline.svg) (requests per 50 ms by outcome, plugin vs bare).', '')

  if (r.overhead.length > 0) {
    out.push('## Hot path: graceful against the bare framework and the alternatives', '')
    out.push(hotPathIntro, '')
    out.push(markdownTable(comparisonTable(r.overhead)), '')
  }

  out.push('## Against the performance contract', '')
  out.push(markdownTable(contract(r, longTrialsBelow)), '')
  out.push(...findingsBlock(r))

  out.push(...overheadSection(r, '## 1. Hot-path overhead'))

  out.push('## 3. Drain under keep-alive load', '')
  out.push('16 keep-alive clients on `/` and 16 on `/slow?ms=100–600`, closed loop, SIGTERM after 1.5 s, load kept on until the process is gone (+250 ms). Every request is classified from the client side, and a failed one is checked against the server\'s own log of the request ids it parsed:', '')
  out.push(`- **LOST**: reset or error of a request the server had parsed (or had started answering): what graceful shutdown must prevent.`)
  out.push(`- **not read**: the connection closed before the server read the request, the keep-alive race (a request on its way, or waiting in the socket buffer, as an idle connection is closed); retry-safe for idempotent requests (RFC 9110 §9.2.2).`)
  out.push(`- **refused**: ECONNREFUSED on a new connection after the listener closed. **503 + close**: the clean rejection.`, '')
  out.push(markdownTable(drainTable(r.drain)), '')
  out.push('![Drain timeline: requests per 50 ms by outcome, plugin vs bare](drain-timeline.svg)', '')

  out.push('## 5. Second signal', '')
  out.push('16 clients on `/slow?ms=3000`; SIGTERM, then a second SIGTERM 200 ms later while the drain waits.', '')
  out.push(markdownTable(secondTable(r.secondSignal)), '')

  if (r.reload && r.reload.length > 0) {
    out.push('## 6. In-place restart', '')
    out.push('The example app with `RELOAD=1`, 8 keep-alive clients on `/` and 8 on `/slow?ms=100–300`, closed loop; after 1 s either SIGHUP (reload: a new process inherits the listening socket, the old one drains once it is ready) or SIGTERM followed by starting the same app again on the same port (stop-and-start). "ready": SIGHUP → the new process ready, or SIGTERM → the old process gone; "done": SIGHUP → the old process gone, or SIGTERM → the new process listening; "gap": time nobody accepted. Requests counted from the signal to "done" + 250 ms, classified as in section 3.', '')
    out.push(markdownTable(reloadTable(r.reload)), '')
  }
  if (r.protocols) out.push(...protocolSection(r.protocols))
  if (r.fleet) out.push(...fleetSection(r.fleet))

  return `${out.join('\n')}\n`
}

/** The block of a long run (`pnpm bench --long`): the rest of the hot path, idle shutdown, scale, heap. */
export function renderLongTrials (r: BenchResults): string {
  const out: string[] = []
  out.push(longTrialsHeading, '')
  out.push(...provenance(r, 'pnpm bench --long'))
  out.push('Idle shutdown (section 2), scale and heap (section 4), and the rest of the hot path (section 1): the alternatives on the Fastify, Express and Koa apps, graceful\'s opt-in options.', '')
  out.push('### Against the performance contract', '')
  out.push(markdownTable(contract(r, false)), '')
  out.push(...findingsBlock(r, '###'))
  if (r.overhead.length > 0) {
    out.push('### 1. Hot-path overhead, continued: the alternatives on Fastify, Express and Koa, the opt-in options', '')
    out.push(hotPathIntro, '')
    out.push(markdownTable(comparisonTable(r.overhead)), '')
    out.push(...overheadSection(r, '#### The pairs'))
  }

  out.push('### 2. Idle shutdown', '')
  out.push(`N keep-alive connections, each after one request, held by a separate (niced) process; SIGTERM; time until the process is gone as the (idle) parent sees it. The bare rows are the floor: a process that dies at once on SIGTERM (tearing down the sockets is kernel work that any exit pays); "<framework>, process.exit() on SIGTERM" is the same bare server calling \`process.exit(0)\` on the signal, the floor of any process of that framework that exits by itself (the signal reaching JavaScript, Node's orderly exit, the same teardown). Heap per connection is read after a full GC before and after opening them; "tracking" is the difference to the bare server of the same framework.`, '')
  out.push(markdownTable(idleTable(r.idle)), '')

  out.push('### 4. Scale', '')
  out.push('N keep-alive connections opened by the holder, each with one slow request timed to finish a few seconds after SIGTERM, which comes as soon as the last request is sent.', '')
  out.push(markdownTable(scaleTable(r.scale)), '')
  const h = r.heap[0]
  if (h) out.push(`Heap after a full GC (after ${int(h.warmup ?? 20_000)} warm-up requests), sampled every ${int(h.chunk ?? 50_000)} requests (autocannon, 32 connections, fast route). Every server, alternatives included, gains some 100 KiB early on (JIT code and caches settling); a leak shows as steady growth, so the verdict reads the second half of the run.`, '')
  out.push(markdownTable(heapTable(r.heap)), '')
  return `${out.join('\n')}\n`
}

const hotPathIntro = 'Server CPU time per request, contender ÷ the bare server of the same app loaded at the same time (> 1 costs more), median over the rounds (min–max). Hello world: `GET /`. Realistic route: `POST /order`, a ~1 KB JSON body parsed and serialised, ~1 ms of awaited work. A/A: a second bare server, the noise floor. Contract: graceful ≤ 1.02 with the range containing 1, and ≤ 0.01 above the best alternative. The pairs of one run cannot resolve 0.01 here: a row that misses the contract but stays within the A/A noise floor (the larger of how far the A/A median landed from 1 and two standard errors of a median of the A/A pairs) is reported as inside it, neither met nor missed.'

/** Section 1's table of every pair, under `heading`. */
function overheadSection (r: BenchResults, heading: string): string[] {
  const out = [heading, '']
  out.push('In pairs: per round and contender, fresh processes of the bare server and the contender (or an identical second bare server: A/A, the noise floor), both loaded at the same time for the same seconds by autocannon, 16 keep-alive connections each; CPU time (all threads) from /proc, as requests per CPU-second relative to the bare server of the pair; req/s under that same concurrent load. Ratios are contender ÷ bare, 1.000 = no overhead, higher is better; each cell is the median over the rounds and (min–max).', '')
  out.push(markdownTable(overheadTable(r.overhead)), '')
  const invalid = r.overhead.flatMap((o) => o.invalid)
  if (invalid.length > 0) out.push(`Runs with errors (kept, listed for honesty): ${invalid.join('; ')}`, '')
  return out
}

function findingsBlock (r: BenchResults, level = '##'): string[] {
  const notable = findings(r)
  return notable.length === 0 ? [] : [`${level} What stands out`, '', ...notable.map((line) => `- ${line}`), '']
}

function reloadTable (results: ReloadResult[]): Table {
  return {
    head: ['app', 'how', 'ready', 'done', 'gap', 'requests', ...outcomes.map((o) => outcomeLabels[o])],
    rows: results.map((r) => [r.name, r.mode, ms(r.toReadyMs), ms(r.totalMs), r.mode === 'reload' ? '–' : ms(r.gapMs), int(r.requests), ...outcomes.map((o) => int(r.counts[o]))]),
  }
}

/** CPU per request, contender ÷ bare: the inverse of the requests-per-CPU-second ratio. */
const cost = (ratios: number[]) => ratios.map((n) => 1 / n)
const costCell = (ratios: number[]) => ratios.length === 0 ? '–' : pm(cost(ratios), ratio)

/**
 * The contract (DESIGN.md): CPU per request, median ≤ 1.02, the pair range
 * containing 1, ≤ the cheapest alternative + 0.01. Nine pairs on a shared
 * two-core VM cannot resolve 0.01: the noise floor of a median of n pairs is
 * what the A/A pairs (bare against bare) show, the larger of how far their
 * own median landed from 1 and two standard errors of a median of n
 * (1.2533·sd/√n). A contender that misses the contract but stays within that
 * floor is reported as inside it (not met, not missed: this run cannot tell).
 */
function hotPathVerdict (s: OverheadSeries, alternatives: OverheadSeries[], twin: OverheadSeries): string {
  if (s.stress) return `not held to it: ${s.stress}`
  const hello = cost(s.cpuRatio)
  if (hello.length === 0) return verdict(false)
  const best = alternatives.length === 0 ? null : Math.min(...alternatives.filter((a) => !a.stress).map((a) => median(cost(a.cpuRatio))))
  const within = (bound: number, slack: number) => median(hello) <= 1 + bound && Math.min(...hello) <= 1 && Math.max(...hello) >= 1 &&
    (best === null || median(hello) <= best + slack)
  if (within(0.02, 0.01)) return verdict(true)
  const floor = noiseFloor(cost(twin.cpuRatio))
  return within(Math.max(0.02, floor), Math.max(0.01, floor)) ? `inside the noise floor (±${floor.toFixed(3)})` : verdict(false)
}

/** How far from 1 a median of these A/A ratios can land by chance: see hotPathVerdict. */
export function noiseFloor (aa: readonly number[]): number {
  if (aa.length < 2) return 0
  const mean = aa.reduce((sum, n) => sum + n, 0) / aa.length
  const sd = Math.sqrt(aa.reduce((sum, n) => sum + (n - mean) ** 2, 0) / (aa.length - 1))
  return Math.max(Math.abs(median(aa) - 1), 2 * 1.2533 * sd / Math.sqrt(aa.length))
}

/** The alternatives measured on the same framework as `family` (Fastify's run in their own family). */
function alternativesOf (results: OverheadResult[], family: OverheadResult): OverheadSeries[] {
  return results.filter((f) => f.framework === family.framework).flatMap((f) => f.contenders.filter((c) => !ours(c)))
}

function comparisonTable (results: OverheadResult[]): Table {
  const rows: string[][] = []
  // The alternatives of a framework can live in their own family (Fastify's run on the bench's own app).
  const frameworks = [...new Set(results.map((f) => f.framework))]
  for (const framework of frameworks) {
    const families = results.filter((f) => f.framework === framework)
    const oursSeries = families.flatMap((f) => f.contenders.filter(ours))
    const alternatives = families.flatMap((f) => f.contenders.filter((c) => !ours(c)))
    for (const s of oursSeries) {
      rows.push([`**${framework}**`, `**${s.name}**`, costCell(s.cpuRatio), costCell(s.orderCpuRatio ?? []), hotPathVerdict(s, alternatives, families.find((f) => f.contenders.includes(s))?.twin ?? families[0]!.twin)])
    }
    for (const a of alternatives) rows.push(['', a.name, costCell(a.cpuRatio), costCell(a.orderCpuRatio ?? []), ''])
    for (const f of families) rows.push(['', `A/A (${f.baseline.name} twice)`, costCell(f.twin.cpuRatio), costCell(f.twin.orderCpuRatio ?? []), ''])
  }
  return { head: ['framework', 'server', 'hello world', 'realistic route', 'contract'], rows }
}

function overheadTable (results: OverheadResult[]): Table {
  const rows: string[][] = []
  for (const family of results) {
    const aa = family.twin
    const row = (s: OverheadSeries, label: string) => [
      label,
      pm(s.rps, int),
      s === family.baseline ? '1 (baseline)' : pm(s.rpsRatio, ratio),
      pm(s.cpuUs, (n) => n.toFixed(1)),
      s === family.baseline ? '1 (baseline)' : pm(s.cpuRatio, ratio),
      s === family.baseline ? '' : pm(s.cpuRatioTicks, ratio),
    ]
    rows.push(row(family.baseline, `**${family.family}**: ${family.baseline.name}`))
    rows.push(row(aa, 'A/A: second bare server'))
    for (const contender of family.contenders) rows.push(row(contender, ours(contender) ? `**${contender.name}**` : contender.name))
  }
  return {
    head: ['server', 'req/s', 'req/s ratio', 'CPU µs/request', 'requests per CPU-s ratio', 'same from utime+stime ticks'],
    rows,
  }
}

function idleTable (results: IdleResult[]): Table {
  const sizes = [...new Set(results.map((r) => r.size))]
  const names = [...new Set(results.map((r) => r.name))]
  const largest = Math.max(...sizes)
  const heapOf = (name: string) => median(results.find((r) => r.name === name && r.size === largest)?.trials.map((t) => t.heapPerConnection) ?? [])
  const baselineOf = (name: string) => results.find((r) => r.name === name)?.baseline
  const rows = names.map((name) => {
    const first = results.find((r) => r.name === name)
    const cells = [first && ours(first) ? `**${name}**` : name]
    for (const size of sizes) {
      const trials = results.find((r) => r.name === name && r.size === size)?.trials ?? []
      const exit = trials.some((t) => t.hung) ? 'hung' : pm(trials.map((t) => t.exitMs), (n) => ms(n))
      const fin = trials.reduce((sum, t) => sum + t.closedByFin, 0)
      const rst = trials.reduce((sum, t) => sum + t.closedByReset, 0)
      const left = trials.reduce((sum, t) => sum + t.leftOpen, 0)
      cells.push(exit, `${int(fin)} / ${int(rst)}${left ? ` / ${int(left)} left open` : ''}`)
    }
    const own = heapOf(name)
    const base = baselineOf(name)
    cells.push(bytes(own), base && base !== name ? bytes(own - heapOf(base)) : '–')
    cells.push([...new Set(results.filter((r) => r.name === name).flatMap((r) => r.trials.map((t) => t.exit)))].join(', '))
    return cells
  })
  return {
    head: ['server', ...sizes.flatMap((n) => [`${int(n)} idle: SIGTERM → exit`, `${int(n)}: FIN / RST`]), `heap per connection (${int(largest)})`, 'tracking per connection', 'exit code'],
    rows,
  }
}

function drainTable (results: Omit<DrainResult, 'attempts'>[]): Table {
  return {
    head: ['server', ...outcomes.map((o) => outcomeLabels[o]), 'in flight at SIGTERM → completed', 'SIGTERM → exit', 'last response → exit (server clock)', 'exit code'],
    rows: results.map((r) => [
      ours(r) ? `**${r.name}**` : r.name,
      ...outcomes.map((o) => o === 'lost' && r.counts.lost > 0 ? `**${int(r.counts.lost)}**` : int(r.counts[o])),
      `${r.inFlightAtSignal} → ${r.inFlightCompleted}`,
      r.hung ? 'hung' : ms(r.exitMs),
      ms(r.lastResponseToExitMs),
      String(r.exitCode),
    ]),
  }
}

function scaleTable (results: ScaleResult[]): Table {
  return {
    head: ['server', 'connections', 'in flight at SIGTERM', ...outcomes.map((o) => outcomeLabels[o]), 'SIGTERM → exit', 'last response → exit (server clock)', 'exit code'],
    rows: results.map((r) => [
      ours(r) ? `**${r.name}**` : r.name,
      int(r.size),
      int(r.inFlightAtSignal),
      ...outcomes.map((o) => int(r.counts[o])),
      r.hung ? 'hung' : ms(r.exitMs),
      ms(r.lastResponseToExitMs),
      r.exit,
    ]),
  }
}

function heapTable (results: HeapResult[]): Table {
  return {
    head: ['server', 'requests', 'heap after warm-up', 'heap at the end', 'growth', 'growth over the second half', 'samples (MiB)'],
    rows: results.map((r) => {
      const first = r.samples[0]!.heapUsed
      const last = r.samples.at(-1)!
      const growth = last.heapUsed - first
      return [
        ours(r) ? `**${r.name}**` : r.name,
        int(last.requests),
        bytes(first),
        bytes(last.heapUsed),
        bytes(growth),
        `${bytes(secondHalf(r).half)} (${secondHalf(r).perRequest.toFixed(3)} B/request)`,
        r.samples.map((s) => (s.heapUsed / 1024 / 1024).toFixed(2)).join(' → '),
      ]
    }),
  }
}

/** Plain statements read off the tables, so a reader need not hunt for them. */
function findings (r: BenchResults): string[] {
  const lines: string[] = []
  const lostDrain = r.drain.filter((d) => !bare(d) && d.counts.lost > 0)
  if (lostDrain.length > 0) lines.push(`Drain under load: ${lostDrain.map((d) => `${d.name} lost ${d.counts.lost}`).join(', ')} request(s) the server had already parsed (every bare server loses its in-flight requests: ${r.drain.filter(bare).map((d) => d.counts.lost).join(', ')}).`)
  const unread = r.drain.filter((d) => !bare(d)).map((d) => d.counts.unread)
  if (unread.length > 0) lines.push(`"Not read" during the drain: ${spread(unread, int)} per server. Closing an idle keep-alive connection races with a client that reuses it at that moment; with the load kept on, each of the 16 fast clients is reusing its connection right then. Only a drain that answers those requests (503 + close) instead of closing the connection avoids it.`)
  for (const s of r.scale.filter((x) => !bare(x) && (x.hung || x.exit !== '0'))) {
    lines.push(`Scale: ${s.name} exited with ${s.exit} ${ms(s.exitMs)} after SIGTERM, ${ms(s.lastResponseToExitMs)} after its last response: it waited for connections left idle after their last response until its timeout.`)
  }
  for (const s of r.scale.filter((x) => !bare(x) && x.counts.unread + x.counts.lost > 0)) {
    lines.push(`Scale: ${s.name} closed ${s.counts.unread + s.counts.lost} of ${int(s.size)} connections whose request had been sent but not yet ${s.counts.lost > 0 ? 'answered' : 'parsed'} when the drain began.`)
  }
  for (const d of r.drain.filter((x) => !bare(x) && (x.lastResponseToExitMs ?? 0) > 100)) {
    lines.push(`${d.name} stays up ${ms(d.lastResponseToExitMs)} after its last response (it polls for the drain to end).`)
  }
  for (const s of r.secondSignal.filter((x) => x.exitMs > 1000 || x.hung)) {
    lines.push(`Second signal: ${s.name} ignores it and exits ${ms(s.exitMs)} later, with ${s.exit}.`)
  }
  const largest = Math.max(...r.idle.map((i) => i.size))
  const floor = median(r.idle.filter((i) => i.size === largest && bare(i) && i.name !== exitAtOnceName(i.framework)).flatMap((i) => i.trials.map((t) => t.exitMs)))
  if (Number.isFinite(floor)) lines.push(`Idle shutdown: on this machine a process holding ${int(largest)} idle connections needs ${ms(floor)} to die even when SIGTERM kills it outright (bare rows): the kernel closes every socket. Every library pays that floor plus its own work.`)
  return lines
}

/** Heap growth over the second half of the requests: the first half also holds one-off warm-up (JIT code, caches). */
function secondHalf (result: HeapResult): { half: number, perRequest: number } {
  const last = result.samples.at(-1)!
  const middle = result.samples.reduce((best, s) => Math.abs(s.requests - last.requests / 2) < Math.abs(best.requests - last.requests / 2) ? s : best)
  const half = last.heapUsed - middle.heapUsed
  return { half, perRequest: half / Math.max(1, last.requests - middle.requests) }
}

function secondTable (results: SecondSignalResult[]): Table {
  return {
    head: ['server', 'second SIGTERM → exit', 'first SIGTERM → exit', 'exit code'],
    rows: results.map((r) => [
      ours(r) ? `**${r.name}**` : r.name,
      r.hung ? 'hung' : Number.isNaN(r.exitMs) ? 'gone before it' : ms(r.exitMs),
      ms(r.totalMs),
      r.exit,
    ]),
  }
}

/** What each long section holds the product to: shown as "not run" in a default run's contract, never as missed. */
const longContract: Record<string, [target: string, contract: string]> = {
  idle: ['Idle shutdown, 1,000 and 10,000 keep-alive connections', 'own work ≤ the same framework exiting at once + 5 ms at 1,000, + 20 % at 10,000; never slower than an alternative'],
  scale: ['10,000 connections drained, exit follows the last response', 'in flight all complete; ≤ 10 ms to the exit'],
  heap: ['No heap growth after many requests', '< 1 B/request over the second half'],
}

/**
 * The contract rows of what this run measured. A default run adds one row per
 * long section it did not run, saying so (and where the last long run's figures
 * are, when `longTrialsBelow`): a section not run is neither met nor missed.
 */
function contract (r: BenchResults, longTrialsBelow: boolean): Table {
  const rows: string[][] = []
  for (const family of r.overhead) {
    const alternatives = alternativesOf(r.overhead, family)
    const best = alternatives.length === 0 ? null : Math.min(...alternatives.map((a) => median(cost(a.cpuRatio))))
    for (const c of family.contenders.filter(ours)) {
      rows.push([
        `Hot path: CPU per request against bare ${family.framework} (${c.name})`,
        'median ≤ 1.02, pair range containing 1, ≤ cheapest alternative + 0.01',
        `${costCell(c.cpuRatio)}; A/A ${costCell(family.twin.cpuRatio)}; ${best === null ? `no alternative on ${family.framework} in this run` : `cheapest alternative ${ratio(best)}`}`,
        hotPathVerdict(c, alternatives, family.twin),
      ])
    }
  }
  const medianOrNull = (values: number[]): number | null => values.length > 0 ? median(values) : null
  const trialsOf = (name: string, size: number): IdleTrial[] => r.idle.filter((i) => i.size === size && i.name === name).flatMap((i) => i.trials)
  /** Median SIGTERM → gone of one server's idle trials at `size`, or null when it has none. */
  const idleExit = (name: string, size: number): number | null => medianOrNull(trialsOf(name, size).map((t) => t.exitMs))
  /**
   * Median SIGTERM → the process's `'exit'` event: its own work, without the
   * kernel's teardown of the sockets after it (the same for every process
   * holding them, and what makes the totals of one machine swing by tens of ms).
   */
  const ownWork = (trials: IdleTrial[]): number | null => medianOrNull(trials.flatMap((t) => t.teardownMs == null ? [] : [t.exitMs - t.teardownMs]))
  for (const size of [1_000, 10_000]) {
    for (const result of r.idle.filter((i) => i.size === size && ours(i))) {
      const value = median(result.trials.map((t) => t.exitMs))
      // DESIGN.md: graceful's own work against the same framework's process that
      // exits at once on SIGTERM, in the same run (+5 ms at 1,000, +20 % at
      // 10,000), and never slower, SIGTERM to gone, than an alternative.
      const own = ownWork(result.trials)
      const atOnceName = exitAtOnceName(result.framework)
      const atOnceOwn = ownWork(trialsOf(atOnceName, size))
      const atOnce = idleExit(atOnceName, size)
      const allowed = atOnce === null || atOnceOwn === null ? null : atOnceOwn + (size === 1_000 ? 5 : atOnce * 0.2)
      const alternatives = r.idle.filter((i) => i.size === size && i.framework === result.framework && i.group === 'alternative')
      const fastest = alternatives.length === 0 ? null : alternatives.map((a) => ({ name: a.name, ms: median(a.trials.map((t) => t.exitMs)) })).sort((a, b) => a.ms - b.ms)[0]!
      rows.push([
        `Idle shutdown, ${int(size)} keep-alive connections (${result.name})`,
        `own work ≤ exiting at once ${size === 1_000 ? '+ 5 ms' : '+ 20 % of its exit'}; SIGTERM → gone ≤ the fastest alternative`,
        `own work ${own === null ? '–' : ms(own)} (${result.framework} exiting at once: ${atOnceOwn === null ? '–' : ms(atOnceOwn)}, gone after ${atOnce === null ? '–' : ms(atOnce)}); gone after ${ms(value)}${fastest === null ? '' : ` (fastest alternative, ${fastest.name}: ${ms(fastest.ms)})`}`,
        verdict(own !== null && allowed !== null && own <= allowed && (fastest === null || value <= fastest.ms)),
      ])
    }
  }
  // A server's drain runs more than once (bench.ts): its verdicts read every run.
  const drainRuns = (result: BenchResults['drain'][number]) => [result, ...result.repeats ?? []]
  for (const result of r.drain.filter((d) => ours(d))) {
    const runs = drainRuns(result)
    const exits = runs.flatMap((run) => run.lastResponseToExitMs ?? [])
    const detail = runs.length > 1 ? `; median of ${runs.length} runs: ${exits.map((e) => ms(e)).join(', ')}` : ''
    rows.push(exitRow(`Exit follows the last response (${result.name}, drain under load)`, medianOrNull(exits), medianOrNull(runs.flatMap((run) => run.teardownMs ?? [])), detail))
  }
  for (const result of r.scale.filter((s) => ours(s))) rows.push(exitRow(`Exit follows the last response (${result.name}, ${int(result.size)} connections)`, result.lastResponseToExitMs, result.teardownMs))
  for (const result of r.secondSignal.filter((s) => ours(s))) rows.push(exitRow(`Second signal (${result.name})`, result.exitMs - (result.teardownMs ?? 0), result.teardownMs))
  for (const result of r.drain.filter((d) => ours(d))) {
    const runs = drainRuns(result)
    const lost = runs.reduce((sum, run) => sum + run.counts.lost, 0)
    const further = runs.length > 1 ? `; ${lost} lost in all ${runs.length} runs` : ''
    rows.push([`Drain under load, zero resets of accepted requests (${result.name})`, '0 lost', `${result.counts.lost} lost, ${result.counts.unread} not read (keep-alive race), ${result.counts.rejected} clean 503${further}`, verdict(lost === 0)])
  }
  for (const result of r.scale.filter((s) => ours(s))) {
    rows.push([`${int(result.size)} connections drained (${result.name})`, `${int(result.inFlightAtSignal)} in flight all complete`, `${int(result.counts.completed)} completed, ${result.counts.lost} lost, ${result.counts.unread} not read`, verdict(result.counts.lost === 0 && result.counts.unread === 0 && result.counts.completed >= result.inFlightAtSignal)])
  }
  for (const result of r.heap.filter((h) => ours(h))) {
    const { half, perRequest } = secondHalf(result)
    rows.push([`No heap growth after ${int(result.samples.at(-1)!.requests)} requests (${result.name})`, '< 1 B/request over the second half (one leaked object per request is ≥ 16 B)', `${bytes(half)} over the second half (${perRequest.toFixed(3)} B/request)`, verdict(perRequest < 1)])
  }
  const notRun = r.long || !r.ran ? [] : longSections.filter((section) => !r.ran!.includes(section))
  for (const section of notRun) {
    const [target, terms] = longContract[section]!
    rows.push([target, terms, `not run; \`pnpm bench --long\`${longTrialsBelow ? ' (the last long run: [Long trials](#long-trials) below)' : ''}`, '–'])
  }
  return { head: ['target', 'contract', 'measured', 'verdict'], rows }
}

export const protocolHeading = '## 7. Beyond plain HTTP'

/** Section 7; `from`: where its figures came from, when not from the run above it (`--only protocols`). */
export function protocolSection (p: ProtocolResults, from?: string): string[] {
  const out: string[] = [`${protocolHeading}: WebSocket, SSE, HTTP/2`, '']
  if (from) out.push(from, '')
  out.push('In-process: servers and clients share one process and `shutdown()` starts the drain (the signal path is measured above); `timeout` 3 s. What is measured is what the clients see.', '')
  out.push(`**WebSocket.** ${p.websockets[0]?.clients ?? 0} \`ws\` clients on a node:http server; the drain with \`graceful.websockets(wss)\`, and without it (the same server: the upgraded sockets hold the drain until the deadline destroys them).`, '')
  out.push(markdownTable({
    head: ['', 'close codes seen by the clients', 'shutdown → last client closed', 'drain', 'outcome'],
    rows: p.websockets.map((w) => [w.name, Object.entries(w.codes).map(([code, n]) => `${code} × ${n}`).join(', '), ms(w.lastCloseMs), ms(w.drainMs), w.outcome]),
  }), '')
  out.push('**SSE.** An EventSource-style client (follows `retry:`, resumes with `Last-Event-ID`) on instance A, events every 20 ms; A drains, the client reconnects to instance B (as a load balancer would send it). Without the helper the stream is cut at the deadline and the client waits the browsers\' default 3 s.', '')
  out.push(markdownTable({
    head: ['', 'longest gap between events', 'events missed', 'drain of A'],
    rows: p.sse.map((x) => [x.name, ms(x.gapMs), int(x.missed), ms(x.drainMs)]),
  }), '')
  out.push(`**HTTP/2 GOAWAY.** ${p.goaway[0]?.sessions ?? 0} h2c sessions, each opening a stream in the very tick the drain starts (the stream and the first GOAWAY cross on the wire).`, '')
  out.push(markdownTable({
    head: ['', 'racing streams served', 'refused (client must retry)', 'drain'],
    rows: p.goaway.map((g) => [g.name, `${g.served} / ${g.sessions}`, int(g.refused), ms(g.drainMs)]),
  }), '')
  return out
}

/** Section 9: the quiet period beside the fixed readiness delay, and the spread goodbye. */
export function fleetSection (f: FleetResults): string[] {
  const out: string[] = ['## 9. Beyond the drain: quiet period, spread goodbye', '']
  out.push('In-process, like section 7. **Readiness delay**: 8 keep-alive clients behind a simulated balancer that checks `/readyz` every 200 ms and stops routing at the first 503; `timeout` 5 s. The quiet period ends once the balancer stopped sending, the fixed delay waits its whole length. The same comparison against HAProxy and real processes is printed by `test/e2e/rolling-restart.test.ts`; the rebalancing by `maxConnectionAge` by `test/e2e/connection-age.test.ts`, and its hot-path cost is the `@graceful/core + maxConnectionAge` row of section 1.', '')
  out.push(markdownTable({
    head: ['', 'delay used', 'ended by', 'shutdown → closed', 'requests', 'failed'],
    rows: f.quiet.map((q) => [q.name, ms(q.delayMs), q.endedBy, ms(q.totalMs), int(q.requests), int(q.failed)]),
  }), '')
  out.push(`**Spread goodbye**: ${f.spread[0]?.clients ?? 0} \`ws\` clients, \`graceful.websockets(wss, { spread })\`; when the server sent each close frame.`, '')
  out.push(markdownTable({
    head: ['', 'close frames: first → last', 'most in any 100 ms', 'close codes', 'drain'],
    rows: f.spread.map((s) => [s.name, ms(s.spanMs), int(s.peakPer100Ms), Object.entries(s.codes).map(([code, n]) => `${code} × ${n}`).join(', '), ms(s.drainMs)]),
  }), '')
  return out
}

/**
 * The block of `markdown` that starts at the line beginning with `heading` and
 * runs to the next heading of the same level (`## `) or the end, or null.
 */
export function blockOf (markdown: string, heading: string): string | null {
  const bounds = blockBounds(markdown, heading)
  return bounds && markdown.slice(bounds.start, bounds.end)
}

/** `markdown` with the block under `heading` replaced by `block`, or `block` appended when it has none. */
export function replaceBlock (markdown: string, heading: string, block: string): string {
  const bounds = blockBounds(markdown, heading)
  if (!bounds) return `${markdown.trimEnd()}\n\n${block.trimEnd()}\n`
  const rest = markdown.slice(bounds.end)
  return `${markdown.slice(0, bounds.start)}${block.trimEnd()}\n${rest === '' ? '' : `\n${rest}`}`
}

function blockBounds (markdown: string, heading: string): { start: number, end: number } | null {
  const start = markdown.startsWith(heading) ? 0 : markdown.indexOf(`\n${heading}`) + 1
  if (start === 0 && !markdown.startsWith(heading)) return null
  const next = markdown.indexOf('\n## ', start + heading.length)
  return { start, end: next === -1 ? markdown.length : next + 1 }
}
