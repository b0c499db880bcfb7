// Idle shutdown: N idle keep-alive connections (each served one request), then
// SIGTERM, and the time until the process is gone as this (idle) process sees
// it. The connections live in the niced holder process, so their closing
// cannot delay that observation. The heap is read (after a full GC) before and
// after opening them: the difference per connection, minus the bare server's,
// is what tracking a connection costs.
import { setTimeout as sleep } from 'node:timers/promises'
import { describeExit, startServer, teardownMs, type ServerGroup, type ServerSpec } from '../lib/children.js'
import { startHolder } from '../lib/hold.js'

export interface IdleTrial {
  exitMs: number
  /** The part of it after the `'exit'` event: the kernel tearing the process down (null when killed by the signal). */
  teardownMs?: number | null
  exit: string
  /** Connections open when the signal was sent. */
  open: number
  closedByFin: number
  closedByReset: number
  /** Still open 1 s after the exit (should be none). */
  leftOpen: number
  /** Heap bytes per open connection (after GC). */
  heapPerConnection: number
  hung: boolean
}

export interface IdleResult {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  /** The bare server of the same framework. */
  baseline: string
  /** The framework it runs on: names its exit-at-once floor (`exitAtOnceName`). */
  framework: string
  size: number
  trials: IdleTrial[]
}

/**
 * One trial: a fresh server, `size` idle connections, SIGTERM. The bench runs
 * the trials of every server in passes (trial 1 of each, then trial 2 of
 * each…), so a server and the floor it is compared with see the same moments
 * of a drifting machine.
 */
export async function idleTrial (spec: ServerSpec, size: number, trial: number, maxFiles: number | undefined, log: (line: string) => void): Promise<IdleTrial> {
  const server = await startServer(spec, { timeout: 10_000, gc: true, maxFiles })
  const holder = await startHolder(maxFiles)
  try {
    const before = await server.memory()
    const opened = await holder.open({ port: server.port, count: size, batch: 128 })
    if (opened.failed > 0) throw new Error(`${spec.name}: ${opened.failed} of ${size} connections failed`)
    const after = await server.memory()
    // Let the last responses settle; then nothing moves until the signal.
    await sleep(200)
    const open = await holder.count()
    const signalAt = server.signal('SIGTERM')
    const hung = (await Promise.race([server.exited, sleep(15_000, 'hung' as const)])) === 'hung'
    const exit = await server.stop()
    let left = await holder.count()
    for (let i = 0; i < 20 && left > 0; i++) {
      await sleep(50)
      left = await holder.count()
    }
    const report = await holder.report(1_000)
    log(`idle ${size} ${spec.name} #${trial}: exit ${describeExit(exit)} after ${(exit.at - signalAt).toFixed(1)} ms, ${open} open at SIGTERM, FIN ${report.closedByFin} RST ${report.closedByReset}`)
    return {
      exitMs: exit.at - signalAt,
      teardownMs: teardownMs(exit),
      exit: describeExit(exit),
      open,
      closedByFin: report.closedByFin,
      closedByReset: report.closedByReset,
      leftOpen: report.open,
      heapPerConnection: (after.heapUsed - before.heapUsed) / size,
      hung,
    }
  } finally {
    await holder.stop()
    await server.stop()
  }
}
