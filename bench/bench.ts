// pnpm bench: the hot path, the drain under load, the second signal, the
// in-place restart and the protocols, side by side with the bare frameworks and
// the alternatives; writes bench/RESULTS.md and bench/drain-timeline.svg.
// `--long` runs the long trials instead (idle shutdown, scale, heap, the rest of
// the hot path) and replaces just their block of RESULTS.md, as a default run
// keeps the last long run's block.
// Loopback only; every loop bounded; every child killed by PID at the end.
// BENCH_QUICK=1 runs a smaller version (for working on the bench itself).
// BENCH_ONLY=overhead,drain,second-signal,protocols,reload,fleet (with --long:
// overhead,idle,scale,heap) runs only those sections (with BENCH_QUICK, or written
// to bench/.tmp/RESULTS.only.md); BENCH_FAMILIES=koa,node:http limits the overhead
// section to those families and the other sections to the servers of those
// frameworks. `--only protocols` replaces that section of RESULTS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { guardChildren, killAll, tmpDir } from './lib/children.js'
import { runDrain, type DrainResult } from './lib/drain.js'
import { canRaiseFiles, machine } from './lib/machine.js'
import { timelineSvg, type TimelineRow } from './lib/svg.js'
import { availableFrameworks, exampleSpec, exitAtOnce, families, shutdownTargets } from './lib/targets.js'
import { sections, sectionsOf, type Section } from './lib/sections.js'
import { blockOf, longTrialsHeading, protocolHeading, protocolSection, renderLongTrials, renderResults, replaceBlock, type BenchResults } from './report.js'
import { heap, type HeapResult } from './scenarios/heap.js'
import { idleTrial, type IdleResult } from './scenarios/idle.js'
import { overhead, type OverheadResult } from './scenarios/overhead.js'
import { killReloaded, reloadApps, reloadScenario, type ReloadResult } from './scenarios/reload.js'
import { protocols } from './scenarios/protocols.js'
import { fleet } from './scenarios/fleet.js'
import { scale, type ScaleResult } from './scenarios/scale.js'
import { secondSignal, type SecondSignalResult } from './scenarios/second-signal.js'

const quick = process.env.BENCH_QUICK === '1'
const long = process.argv.includes('--long')
const onlyProtocols = process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'protocols'
const planned = sectionsOf(long)
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null
for (const name of only ?? []) {
  if (!sections.includes(name as never)) throw new Error(`BENCH_ONLY: unknown section "${name}" (one of ${sections.join(', ')})`)
  if (!planned.includes(name as never)) throw new Error(`BENCH_ONLY: "${name}" runs with${long ? 'out' : ''} --long (this run's sections: ${planned.join(', ')})`)
}
const runs = (section: Section) => planned.includes(section) && (only === null || only.has(section))

/**
 * Every count of the bench. The default run is sized for ~12 minutes on two
 * cores, under the 15 it must stay within (the hot path: 9 rounds of 14 pairs,
 * ~4.4 s a pair, ~9 min; the other sections ~3 min); the long run takes ~50.
 * README.md ("Two runs") has the time of each section and why the hot path
 * keeps its rounds and gives up seconds and pairs.
 */
const config = {
  overhead: quick
    ? { rounds: 2, warmupSeconds: 0.5, cpuSeconds: 1, orderSeconds: 1, connections: 32 }
    : { rounds: 9, warmupSeconds: 0.5, cpuSeconds: 1, orderSeconds: 1, connections: 32 },
  idle: { sizes: quick ? [1_000] : [1_000, 10_000], trials: quick ? 1 : 5 },
  drain: { fast: 16, slow: 16, slowMs: [100, 600] as const, warmupMs: 1500, tailMs: 250, timeout: 10_000, runs: quick ? 1 : 3 },
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
// Each run's own results, for `--render`: the default run's and the long run's.
const resultsFile = join(tmpDir, `results${long ? '.long' : ''}${partial ? '.partial' : ''}.json`)
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
  log(`pnpm bench${long ? ' --long' : ''}: ${info.nproc} cores (${info.cpu}), ${info.memory}, Node ${info.node}, load ${info.load}, code ${info.code}${quick ? ' (BENCH_QUICK)' : ''}`)

  // 10,000 connections need 10,000 descriptors in the server and as many in the holder.
  const largest = Math.max(...runs('idle') ? config.idle.sizes : [], runs('scale') ? config.scale.size : 0)
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
    long,
    ran: planned.filter(runs),
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
    const lastFile = join(tmpDir, 'results.json')
    if (existsSync(lastFile)) {
      const last = JSON.parse(readFileSync(lastFile, 'utf8')) as BenchResults
      writeFileSync(lastFile, JSON.stringify({ ...last, protocols: protocolResults }, null, 2))
    }
    const section = protocolSection(protocolResults, `From \`pnpm bench --only protocols\` on ${info.date}, code ${info.code}.`).join('\n')
    writeFileSync(outFile, replaceBlock(previousResults(), protocolHeading, section))
    log(`protocols done: ${outFile.pathname}`)
    return
  }

  if (runs('overhead')) {
    log(`1. hot-path overhead${long ? ': the alternatives on Fastify, Express and Koa, the opt-in options' : ''}`)
    const chosen = families().filter((f) => Boolean(f.long) === long && (familyFilter === null || familyFilter.has(f.name)))
    for (const family of chosen) push(results.overhead, await attempt(`overhead ${family.name}`, () => overhead(family, config.overhead, log)))
  }

  if (runs('idle')) log('2. idle shutdown')
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

  if (runs('drain')) log('3. drain under load')
  const timeline: TimelineRow[] = []
  const byName = new Map<string, DrainResult>()
  for (const target of runs('drain') ? targets : []) {
    const result = await attempt(`drain ${target.name}`, () => runDrain(target, config.drain))
    if (!result) continue
    // Ours are judged: the exit a few ms after the last response is one sample on
    // two busy cores (3–14 ms for one server in four runs), so the drain runs again and
    // the verdicts read every run (losses summed, the median exit).
    for (let run = 2; target.group === 'graceful' && run <= config.drain.runs; run++) {
      const again = await attempt(`drain ${target.name} #${run}`, () => runDrain(target, config.drain))
      if (again) (result.repeats ??= []).push({ counts: again.counts, lastResponseToExitMs: again.lastResponseToExitMs, teardownMs: again.teardownMs })
    }
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
  if (runs('drain')) writeFileSync(svgFile, timelineSvg(timeline, chartTitle))

  if (runs('second-signal')) log('5. second signal')
  for (const target of targets.filter((t) => runs('second-signal') && t.group !== 'bare')) push(results.secondSignal, await attempt(`second signal ${target.name}`, () => secondSignal(target, log)))

  if (runs('scale')) log(`4. scale: ${config.scale.size} connections with a request in flight`)
  for (const target of targets.filter((t) => runs('scale') && (t.group !== 'bare' || t.framework === 'node:http'))) {
    push(results.scale, await attempt(`scale ${target.name}`, () => scale(target, config.scale.size, maxFiles, log)))
  }

  if (runs('heap')) log('4. heap after many requests')
  for (const target of targets.filter((t) => runs('heap') && t.group !== 'bare')) {
    const total = target.name === '@graceful/core' ? config.heap.core : target.group === 'graceful' ? config.heap.plugins : config.heap.others
    push(results.heap, await attempt(`heap ${target.name}`, () => heap(target, total, config.heap.chunk, config.heap.warmup, log)))
  }

  if (runs('protocols')) {
    log('7. beyond plain HTTP: WebSocket, SSE, HTTP/2 GOAWAY')
    results.protocols = await attempt('protocols', () => protocols(log, config.protocols))
  }
  if (runs('reload')) await reloadStep(results)
  if (runs('fleet')) {
    log('9. beyond the drain: quiet period, spread goodbye')
    results.fleet = await attempt('fleet', () => fleet(log, config.fleet))
  }

  results.minutes = (performance.now() - began) / 60_000
  for (const failure of failures) notes.push(`Failed and left out: ${failure}.`)
  writeFileSync(resultsFile, JSON.stringify(results, null, 2))
  writeResults(results)
  log(`done in ${results.minutes.toFixed(1)} min: ${outFile.pathname}${runs('drain') ? `, ${svgFile.pathname}` : ''}`)
}

/** The file this run writes, as the last run left it (its other run's block is kept). */
function previousResults (): string {
  return existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmark results\n'
}

/**
 * A default run rewrites the file and keeps the last long run's block at its
 * end; a long run replaces just that block. Each block says when and from which
 * code it was measured.
 */
function writeResults (results: BenchResults): void {
  const previous = previousResults()
  if (results.long) {
    writeFileSync(outFile, replaceBlock(previous, longTrialsHeading, renderLongTrials(results)))
  } else {
    const kept = blockOf(previous, longTrialsHeading)
    writeFileSync(outFile, kept === null ? renderResults(results, false) : `${renderResults(results, true).trimEnd()}\n\n${kept}`)
  }
}

async function reloadStep (results: BenchResults): Promise<void> {
  log('6. in-place restart: reload vs stop-and-start under keep-alive load')
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

// `--render`: rewrite RESULTS.md and the chart from the last run's bench/.tmp/results.json
// (with `--long`: the long trials' block, from results.long.json).
const run = process.argv.includes('--render')
  ? async () => {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults
    writeResults({ ...results, long })
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
