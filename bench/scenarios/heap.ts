// Heap after many requests: the heap after a full GC, read every `chunk`
// requests. Tracking that leaks would grow with the request count.
import { cannon } from '../lib/cannon.js'
import { startServer, type ServerGroup, type ServerSpec } from '../lib/children.js'

export interface HeapResult {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  samples: { requests: number, heapUsed: number }[]
  /** Requests before the first sample. */
  warmup: number
  chunk: number
  rps: number
}

export async function heap (spec: ServerSpec, total: number, chunk: number, warmup: number, log: (line: string) => void): Promise<HeapResult> {
  const server = await startServer(spec, { timeout: 10_000, gc: true })
  try {
    // Warm up first: the JIT's code and inline caches live on the heap too.
    await cannon(server.origin, { amount: warmup, connections: 32 })
    const samples = [{ requests: 0, heapUsed: (await server.memory()).heapUsed }]
    let done = 0
    let seconds = 0
    while (done < total) {
      const run = await cannon(server.origin, { amount: Math.min(chunk, total - done), connections: 32 })
      if (run.total === 0) throw new Error(`${spec.name}: no response`)
      done += run.total
      seconds += run.seconds
      samples.push({ requests: done, heapUsed: (await server.memory()).heapUsed })
    }
    const growth = samples.at(-1)!.heapUsed - samples[0]!.heapUsed
    log(`heap ${spec.name}: ${samples.map((s) => `${(s.heapUsed / 1024 / 1024).toFixed(2)} MiB`).join(' → ')} (${growth >= 0 ? '+' : ''}${(growth / 1024).toFixed(0)} KiB after ${done} requests)`)
    return { name: spec.name, group: spec.group, samples, warmup, chunk, rps: done / seconds }
  } finally {
    await server.stop()
  }
}
