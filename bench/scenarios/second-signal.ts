// A second signal while draining: the process must go at once. Slow requests
// (3 s) keep the drain busy; the second SIGTERM comes 200 ms after the first.
import { setTimeout as sleep } from 'node:timers/promises'
import { describeExit, startServer, teardownMs, type ServerGroup, type ServerSpec } from '../lib/children.js'
import { startLoad } from '../lib/load.js'

export interface SecondSignalResult {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  /** Second SIGTERM → exit. */
  exitMs: number
  /** First SIGTERM → exit. */
  totalMs: number
  /** The part of `exitMs` after the `'exit'` event: the kernel tearing the process down. */
  teardownMs: number | null
  exit: string
  hung: boolean
}

export async function secondSignal (spec: ServerSpec, log: (line: string) => void): Promise<SecondSignalResult> {
  const server = await startServer(spec, { timeout: 10_000 })
  const load = startLoad({ port: server.port, fast: 0, slow: 16, slowMs: [3_000, 3_000], maxRequests: 1_000, maxDurationMs: 20_000 })
  try {
    await sleep(500)
    const first = server.signal('SIGTERM')
    await Promise.race([server.exited, sleep(200)])
    const second = server.alive ? server.signal('SIGTERM') : NaN
    const hung = (await Promise.race([server.exited, sleep(12_000, 'hung' as const)])) === 'hung'
    const exit = await server.stop()
    const result = { name: spec.name, group: spec.group, exitMs: exit.at - second, totalMs: exit.at - first, teardownMs: teardownMs(exit), exit: describeExit(exit), hung }
    log(`second signal ${spec.name}: exit ${result.exit} ${Number.isNaN(result.exitMs) ? 'before the second signal' : `${result.exitMs.toFixed(1)} ms after it`}`)
    return result
  } finally {
    await load.stop()
    await server.stop()
  }
}
