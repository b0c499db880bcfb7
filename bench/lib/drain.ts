import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { classify, countOutcomes, now, type Attempt, type Counts, type Outcome } from '@graceful/test-kit/client'
import { exitStatus, lastResponseToExitMs, startServer, teardownMs, tmpDir, type Exit, type ServerGroup, type ServerSpec } from './children.js'
import { startLoad } from './load.js'

export interface DrainOptions {
  /** Fast-route workers. @default 16 */
  fast?: number
  /** Slow-route workers. @default 16 */
  slow?: number
  slowMs?: readonly [number, number]
  /** Load before SIGTERM. @default 1500 */
  warmupMs?: number
  /** Load kept on after the exit, to show what a client sees then. @default 250 */
  tailMs?: number
  /** The server's `TIMEOUT`. @default 10_000 */
  timeout?: number
  /** Live counts while it runs, about every `progressMs`. */
  onProgress?: (progress: DrainProgress) => void
  progressMs?: number
}

export interface DrainProgress {
  phase: 'starting' | 'load' | 'draining' | 'tail'
  /** ms since the load started. */
  elapsed: number
  ok: number
  rejected: number
  errors: number
  inFlight: number
}

export interface DrainResult {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  counts: Counts
  /** Requests sent before SIGTERM and finished after it. */
  inFlightAtSignal: number
  /** How many of those completed normally. */
  inFlightCompleted: number
  /** SIGTERM → exit seen by this process. */
  exitMs: number
  exit: Exit
  exitCode: number
  /** The last response → the `'exit'` event (the server's clock): how long the process lingered once drained. */
  lastResponseToExitMs: number | null
  /** After the `'exit'` event: the kernel tearing the process down. */
  teardownMs: number | null
  /** The process did not exit within TIMEOUT + 5 s and was killed. */
  hung: boolean
  signalAt: number
  attempts: (Attempt & { outcome: Outcome })[]
  /** graceful's servers only: what further runs of the same drain add to the verdicts (bench.ts). */
  repeats?: Pick<DrainResult, 'counts' | 'lastResponseToExitMs' | 'teardownMs'>[]
}

let runs = 0

/**
 * One drain under keep-alive load: start the server, load it with a mix of
 * fast and slow requests, SIGTERM it mid-load, keep loading until it is gone,
 * then classify every request (with the probe's log of the ids the server
 * parsed). The demo and the bench's drain scenario both run this.
 */
export async function runDrain (spec: ServerSpec, options: DrainOptions = {}): Promise<DrainResult> {
  const timeout = options.timeout ?? 10_000
  const warmupMs = options.warmupMs ?? 1500
  const tailMs = options.tailMs ?? 250
  const idsFile = join(tmpDir, `ids-${process.pid}-${++runs}.txt`)
  const report = (phase: DrainProgress['phase'], started: number, attempts: readonly Attempt[], inFlight: number) => {
    if (!options.onProgress) return
    let ok = 0
    let rejected = 0
    let errors = 0
    for (const attempt of attempts) {
      if (attempt.status === 503) rejected++
      else if (attempt.status !== null) ok++
      else errors++
    }
    options.onProgress({ phase, elapsed: now() - started, ok, rejected, errors, inFlight })
  }

  options.onProgress?.({ phase: 'starting', elapsed: 0, ok: 0, rejected: 0, errors: 0, inFlight: 0 })
  const server = await startServer(spec, { timeout, idsFile })
  const started = now()
  const load = startLoad({
    port: server.port,
    fast: options.fast ?? 16,
    slow: options.slow ?? 16,
    slowMs: options.slowMs ?? [100, 600],
    maxRequests: 200_000,
    maxDurationMs: warmupMs + timeout + tailMs + 5_000,
  })
  let phase: DrainProgress['phase'] = 'load'
  const ticker = setInterval(() => report(phase, started, load.attempts, load.inFlight), options.progressMs ?? 250)
  try {
    await sleep(warmupMs)
    phase = 'draining'
    const signalAt = server.signal('SIGTERM')
    const limit = sleep(timeout + 5_000, 'hung' as const)
    const hung = (await Promise.race([server.exited, limit])) === 'hung'
    const exit = await server.stop()
    phase = 'tail'
    await sleep(tailMs)
    const attempts = await load.stop()
    clearInterval(ticker)
    report(phase, started, attempts, 0)

    const parsed = readIds(idsFile)
    const counted = attempts.map((attempt) => ({ ...attempt, outcome: classify(attempt, (id) => parsed.has(id)) }))
    const atSignal = counted.filter((a) => a.start < signalAt && a.end > signalAt)
    const lastResponse = counted.filter((a) => a.status !== null).reduce((max, a) => Math.max(max, a.end), -Infinity)
    return {
      name: spec.name,
      group: spec.group,
      counts: countOutcomes(attempts, (id) => parsed.has(id)),
      inFlightAtSignal: atSignal.length,
      inFlightCompleted: atSignal.filter((a) => a.outcome === 'completed').length,
      exitMs: exit.at - signalAt,
      exit,
      exitCode: exitStatus(exit),
      lastResponseToExitMs: lastResponseToExitMs(exit, lastResponse, signalAt),
      teardownMs: teardownMs(exit),
      hung,
      signalAt,
      attempts: counted,
    }
  } finally {
    clearInterval(ticker)
    await load.stop()
    await server.stop()
    rmSync(idsFile, { force: true })
  }
}

function readIds (file: string): Set<number> {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // no request was parsed at all
  }
  const ids = new Set<number>()
  for (const line of text.split('\n')) if (line) ids.add(Number(line))
  return ids
}
