// Scale: N keep-alive connections, each with one request in flight, all timed
// to finish together a few seconds after SIGTERM. Every one must complete; the
// exit should follow the last response closely.
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { countOutcomes, now, type Counts } from '@graceful/test-kit/client'
import { describeExit, startServer, tmpDir, type ServerGroup, type ServerSpec } from '../lib/children.js'
import { startHolder } from '../lib/hold.js'

export interface ScaleResult {
  name: string
  /** Ours, the bare framework, or an alternative (from its ServerSpec). */
  group: ServerGroup
  size: number
  counts: Counts
  inFlightAtSignal: number
  /** ms to open the connections and send the requests. */
  openMs: number
  exitMs: number
  exit: string
  /** Last response → exit, as seen here and in the holder (one clock). */
  lastResponseToExitMs: number | null
  hung: boolean
}

export async function scale (spec: ServerSpec, size: number, maxFiles: number | undefined, log: (line: string) => void): Promise<ScaleResult> {
  const idsFile = join(tmpDir, `scale-${process.pid}-${Date.now()}.txt`)
  // The requests end ~2 s after the last is sent: 15 s leaves a server that waits for keep-alive timeouts visibly hung.
  const timeout = 15_000
  const server = await startServer(spec, { timeout, idsFile, maxFiles })
  const holder = await startHolder(maxFiles)
  try {
    // Opening runs at a few thousand connections a second here: aim the
    // common finish a little after the last one should be sent.
    const finishAt = now() + 2_000 + size * 0.4
    const opened = await holder.open({ port: server.port, count: size, batch: 128, wait: 'sent', finishAt, timeout: timeout + 10_000 })
    const signalAt = server.signal('SIGTERM')
    const hung = (await Promise.race([server.exited, sleep(timeout + 5_000, 'hung' as const)])) === 'hung'
    const exit = await server.stop()
    const report = await holder.report(10_000)
    const parsed = new Set(readFileSync(idsFile, 'utf8').split('\n').filter(Boolean).map(Number))
    const counts = countOutcomes(report.attempts, (id) => parsed.has(id))
    const lastResponse = Math.max(...report.attempts.filter((a) => a.status !== null && a.end <= exit.at).map((a) => a.end))
    const result: ScaleResult = {
      name: spec.name,
      group: spec.group,
      size,
      counts,
      inFlightAtSignal: report.attempts.filter((a) => a.start < signalAt && a.end > signalAt).length,
      openMs: opened.ms,
      exitMs: exit.at - signalAt,
      exit: describeExit(exit),
      lastResponseToExitMs: lastResponse > signalAt ? exit.at - lastResponse : null,
      hung,
    }
    log(`scale ${size} ${spec.name}: ${result.inFlightAtSignal} in flight at SIGTERM, ${counts.completed} completed, ${counts.lost} lost, exit ${result.exit} ${result.exitMs.toFixed(0)} ms after SIGTERM`)
    return result
  } finally {
    await holder.stop()
    await server.stop()
    rmSync(idsFile, { force: true })
  }
}
