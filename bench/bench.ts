// pnpm bench: every scenario, side by side with the bare frameworks and the
// alternatives; writes bench/RESULTS.md and bench/drain-timeline.svg.
// Loopback only; every loop bounded; every child killed by PID at the end.
// BENCH_QUICK=1 runs a smaller version (for working on the bench itself).
// BENCH_ONLY=overhead,idle,drain,second-signal,scale,heap,protocols,reload,fleet runs only those
// sections (with BENCH_QUICK, or written to bench/.tmp/RESULTS.only.md); BENCH_FAMILIES=koa,node:http
// limits the overhead section to those families and the other sections to the servers of those
// frameworks. `--only protocols` replaces that section of RESULTS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { guardChildren, killAll, tmpDir } from './lib/children.js'
import { runDrain, type DrainResult } from './lib/drain.js'
import { canRaiseFiles, machine } from './lib/machine.js'
import { timelineSvg, type TimelineRow } from './lib/svg.js'
import { availableFrameworks, exampleSpec, exitAtOnce, families, shutdownTargets } from './lib/targets.js'
import { protocolHeading, protocolSection, renderResults, type BenchResults } from './report.js'
import { heap, type HeapResult } from './scenarios/heap.js'
import { idleTrial, type IdleResult } from './scenarios/idle.js'
import { overhead, type OverheadResult } from './scenarios/overhead.js'
import { killReloaded, reloadApps, reloadScenario, type ReloadResult } from './scenarios/reload.js'
import { protocols } from './scenarios/protocols.js'
import { fleet } from './scenarios/fleet.js'
import { scale, type ScaleResult } from './scenarios/scale.js'
import { secondSignal, type SecondSignalResult } from './scenarios/second-signal.js'

const quick = process.env.BENCH_QUICK === '1'
const onlyProtocols = process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'protocols'
const sections = ['overhead', 'idle', 'drain', 'second-signal', 'scale', 'heap', 'protocols', 'reload', 'fleet'] as const
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null
for (const name of only ?? []) if (!sections.includes(name as never)) throw new Error(`BENCH_ONLY: unknown section "${name}" (one of ${sections.join(', ')})`)
const runs = (section: typeof sections[number]) => only === null || only.has(section)

/** Every count of the bench, sized for ~45 minutes on two cores (the hot path: 9 rounds of ~22 pairs). */
const config = {
  overhead: quick
    ? { rounds: 2, warmupSeconds: 0.5, cpuSeconds: 1, orderSeconds: 1, connections: 32 }
    : { rounds: 9, warmupSeconds: 0.5, cpuSeconds: 2, orderSeconds: 1.5, connections: 32 },
  idle: { sizes: quick ? [1_000] : [1_000, 10_000], trials: quick ? 1 : 5 },
  drain: { fast: 16, slow: 16, slowMs: [100, 600] as const, warmupMs: 1500, tailMs: 250, timeout: 10_000 },
  scale: { size: quick ? 2_000 : 10_000 },
  reload: { fast: 8, slow: 8, warmupMs: 1000, tailMs: 250 },
  protocols: { clients: quick ? 50 : 200, sessions: quick ? 20 : 100 },
  fleet: { websockets: quick ? 500 : 2_000 },
  heap: {
    /** Requests for @graceful/core on node:http: the engine every adapter shares. */
    core: quick ? 100_000 : 1_000_000,
    /** Requests for the framework plugins. */
    plugins: quick ? 40_000 : 300_000,
    /** Requests for every alternative. */
    others: quick ? 40_000 : 100_000,
    chunk: quick ? 20_000 : 50_000,
    warmup: quick ? 20_000 : 50_000,
  },
}

// A quick run must not overwrite the real figures.
const partial = quick || only !== null
const outFile = new URL(quick ? './.tmp/RESULTS.quick.md' : only ? './.tmp/RESULTS.only.md' : './RESULTS.md', import.meta.url)
const svgFile = new URL(partial ? './.tmp/drain-timeline.svg' : './drain-timeline.svg', import.meta.url)
const began = performance.now()
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`)
const failures: string[] = []
const chartTitle = 'Drain under keep-alive load: requests finished per 50 ms, by outcome (SIGTERM at 0)'

/** Runs one measurement; a failure is logged, listed in RESULTS.md and skipped, so one broken server cannot lose the rest. */
async function attempt<T> (what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!
    failures.push(`${what}: ${message}`)
    log(`FAILED ${what}: ${message}`)
    return undefined
  }
}

const push = <T>(list: T[], value: T | undefined) => {
  if (value !== undefined) list.push(value)
}

async function main (): Promise<void> {
  guardChildren()
  mkdirSync(tmpDir, { recursive: true })
  const info = machine()
  const notes: string[] = []
  log(`pnpm bench: ${info.nproc} cores (${info.cpu}), ${info.memory}, Node ${info.node}, load ${info.load}${quick ? ' (BENCH_QUICK)' : ''}`)

  // 10,000 connections need 10,000 descriptors in the server and as many in the holder.
  const largest = Math.max(...config.idle.sizes, config.scale.size)
  const needed = largest + 1_000
  let maxFiles: number | undefined
  if (info.files.soft < needed) {
    if (canRaiseFiles(needed)) {
      maxFiles = needed
      notes.push(`\`ulimit -n\` was ${info.files.soft}: raised to ${needed} for the server and holder children.`)
    } else {
      const cap = Math.max(100, info.files.soft - 1_000)
      config.idle.sizes = config.idle.sizes.map((n) => Math.min(n, cap))
      config.scale.size = Math.min(config.scale.size, cap)
      notes.push(`\`ulimit -n\` is ${info.files.soft} and cannot be raised: connection counts capped at ${cap}.`)
    }
  }
  const missing = ['fastify', 'express', 'koa'].filter((f) => !availableFrameworks().includes(f as never))
  if (missing.length > 0) notes.push(`No example app for ${missing.join(', ')}: left out.`)

  const familyFilter = process.env.BENCH_FAMILIES ? new Set(process.env.BENCH_FAMILIES.split(',').map((s) => s.trim())) : null
  const targets = shutdownTargets().filter((t) => familyFilter === null || familyFilter.has(t.framework))
  const results: BenchResults = {
    machine: info,
    config,
    notes,
    minutes: 0,
    overhead: [] as OverheadResult[],
    idle: [] as IdleResult[],
    drain: [] as Omit<DrainResult, 'attempts'>[],
    secondSignal: [] as SecondSignalResult[],
    scale: [] as ScaleResult[],
    heap: [] as HeapResult[],
    timeline: [] as TimelineRow[],
    reload: [] as ReloadResult[],
  }

  // `--only protocols`: just the WebSocket, SSE and HTTP/2 scenarios; their section of
  // RESULTS.md is replaced and the rest kept (and the last run's results.json updated, if any).
  if (onlyProtocols) {
    const protocolResults = await attempt('protocols', () => protocols(log, config.protocols))
    if (!protocolResults) return
    const resultsFile = join(tmpDir, 'results.json')
    if (existsSync(resultsFile)) {
      const last = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults
      writeFileSync(resultsFile, JSON.stringify({ ...last, protocols: protocolResults }, null, 2))
    }
    const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmark results\n'
    const cut = previous.indexOf(protocolHeading)
    const kept = (cut === -1 ? previous : previous.slice(0, cut)).trimEnd()
    writeFileSync(outFile, `${kept}\n\n${protocolSection(protocolResults).join('\n')}\n`)
    log(`protocols done: ${outFile.pathname}`)
    return
  }

  log('1/8 hot-path overhead')
  if (runs('overhead')) for (const family of families().filter((f) => familyFilter === null || familyFilter.has(f.name))) push(results.overhead, await attempt(`overhead ${family.name}`, () => overhead(family, config.overhead, log)))

  log('2/8 idle shutdown')
  // Beside each bare server, the same server exiting by itself at once: the floor of any process of that framework that does.
  const idleTargets = [...targets, ...targets.filter((t) => t.name === t.baseline).map(exitAtOnce)]
  for (const size of runs('idle') ? config.idle.sizes : []) {
    const bySize = new Map<string, IdleResult>()
    // In passes: trial 1 of every server, then trial 2…
    for (let trial = 1; trial <= config.idle.trials; trial++) {
      for (const target of idleTargets) {
        const one = await attempt(`idle ${size} ${target.name} #${trial}`, () => idleTrial(target, size, trial, maxFiles, log))
        if (!one) continue
        let result = bySize.get(target.name)
        if (!result) bySize.set(target.name, result = { name: target.name, group: target.group, baseline: target.baseline, framework: target.framework, size, trials: [] })
        result.trials.push(one)
      }
    }
    results.idle.push(...bySize.values())
  }

  log('3/8 drain under load')
  const timeline: TimelineRow[] = []
  const byName = new Map<string, DrainResult>()
  for (const target of runs('drain') ? targets : []) {
    const result = await attempt(`drain ${target.name}`, () => runDrain(target, config.drain))
    if (!result) continue
    byName.set(target.name, result)
    results.drain.push(withoutAttempts(result))
    log(`drain ${target.name}: ${result.counts.completed} completed, ${result.counts.rejected} 503+close, ${result.counts.unread} not read, ${result.counts.lost} lost; exit ${result.exitCode} ${result.exitMs.toFixed(0)} ms after SIGTERM`)
  }
  for (const framework of availableFrameworks()) {
    const specs = [exampleSpec(framework, true), exampleSpec(framework, false)]
    if (!specs.every((spec) => byName.has(spec.name))) continue
    const panels = specs.map((spec) => {
      const result = byName.get(spec.name)!
      return {
        title: spec.env ? 'bare (no plugin)' : 'with the plugin',
        exitMs: result.exitMs,
        points: result.attempts.map((a) => ({ t: a.end - result.signalAt, outcome: a.outcome })),
      }
    })
    timeline.push({ label: framework, panels })
  }
  results.timeline = timeline
  writeFileSync(svgFile, timelineSvg(timeline, chartTitle))

  log('4/8 second signal')
  for (const target of targets.filter((t) => runs('second-signal') && t.group !== 'bare')) push(results.secondSignal, await attempt(`second signal ${target.name}`, () => secondSignal(target, log)))

  log(`5/8 scale: ${config.scale.size} connections with a request in flight`)
  for (const target of targets.filter((t) => runs('scale') && (t.group !== 'bare' || t.framework === 'node:http'))) {
    push(results.scale, await attempt(`scale ${target.name}`, () => scale(target, config.scale.size, maxFiles, log)))
  }

  log('6/8 heap after many requests')
  for (const target of targets.filter((t) => runs('heap') && t.group !== 'bare')) {
    const total = target.name === '@graceful/core' ? config.heap.core : target.group === 'graceful' ? config.heap.plugins : config.heap.others
    push(results.heap, await attempt(`heap ${target.name}`, () => heap(target, total, config.heap.chunk, config.heap.warmup, log)))
  }

  log('7/8 beyond plain HTTP: WebSocket, SSE, HTTP/2 GOAWAY')
  if (runs('protocols')) results.protocols = await attempt('protocols', () => protocols(log, config.protocols))
  if (runs('reload')) await reloadStep(results)
  log('9. beyond the drain: quiet period, spread goodbye')
  if (runs('fleet')) results.fleet = await attempt('fleet', () => fleet(log, config.fleet))

  results.minutes = (performance.now() - began) / 60_000
  for (const failure of failures) notes.push(`Failed and left out: ${failure}.`)
  writeFileSync(join(tmpDir, partial ? 'results.partial.json' : 'results.json'), JSON.stringify(results, null, 2))
  writeFileSync(outFile, renderResults(results))
  log(`done in ${results.minutes.toFixed(1)} min: ${outFile.pathname}, ${svgFile.pathname}`)
}

async function reloadStep (results: BenchResults): Promise<void> {
  log('8/8 in-place restart: reload vs stop-and-start under keep-alive load')
  for (const app of reloadApps()) {
    for (const mode of ['reload', 'stop-and-start'] as const) {
      push(results.reload!, await attempt(`${mode} ${app.name}`, () => reloadScenario(app, mode, config.reload, log)))
    }
  }
}

function withoutAttempts ({ attempts, ...rest }: DrainResult): Omit<DrainResult, 'attempts'> {
  void attempts
  return rest
}

// `--render`: rewrite RESULTS.md and the chart from the last run's bench/.tmp/results.json.
const run = process.argv.includes('--render')
  ? async () => {
    const results = JSON.parse(readFileSync(join(tmpDir, 'results.json'), 'utf8')) as BenchResults
    writeFileSync(outFile, renderResults(results))
    if (results.timeline?.length) writeFileSync(svgFile, timelineSvg(results.timeline, chartTitle))
    log(`rendered ${outFile.pathname}`)
  }
  : main

run().then(() => { killAll(); killReloaded() }, (error: unknown) => {
  killAll()
  killReloaded()
  console.error(error)
  process.exitCode = 1
})
