// Scale: N keep-alive connections, each with one request in flight, timed to
// finish over one second a few seconds after SIGTERM. Every one must complete;
// the exit should follow the last response closely. Spread, because 10,000
// responses written in the same millisecond are followed by the kernel closing
// 10,000 sockets (~10 µs each here, whoever closes them, at exit or before):
// that would measure the kernel, not what a shutdown library adds.
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { countOutcomes, type Counts } from '@graceful/test-kit/client'
import { describeExit, lastResponseToExitMs, startServer, teardownMs, tmpDir, type ServerGroup, type ServerSpec } from '../lib/children.js'
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
  /** The last response → the `'exit'` event (the server's clock). */
  lastResponseToExitMs: number | null
  /** After the `'exit'` event: the kernel tearing the process down. */
  teardownMs: number | null
  hung: boolean
}

export async function scale (spec: ServerSpec, size: number, maxFiles: number | undefined, log: (line: string) => void): Promise<ScaleResult> {
  const idsFile = join(tmpDir, `scale-${process.pid}-${Date.now()}.txt`)
  // The requests end ~2 s after the last is sent: 15 s leaves a server that waits for keep-alive timeouts visibly hung.
  const timeout = 15_000
  const server = await startServer(spec, { timeout, idsFile, maxFiles })
  const holder = await startHolder(maxFiles)
  try {
    // The requests are all sent at once on open connections: the finish
    // leaves the server time to read them all (a few thousand a second here).
    const opened = await holder.openTimed({ port: server.port, count: size, batch: 128, finishIn: 2_000 + size * 0.4, spreadMs: 1_000, timeout: timeout + 10_000 })
    // SIGTERM once the server has read every request, not while it is still busy reading them.
    await linesIn(idsFile, size, 10_000)
    const signalAt = server.signal('SIGTERM')
    const hung = (await Promise.race([server.exited, sleep(timeout + 5_000, 'hung' as const)])) === 'hung'
    const exit = await server.stop()
    const report = await holder.report(10_000)
    const parsed = new Set(readFileSync(idsFile, 'utf8').split('\n').filter(Boolean).map(Number))
    const counts = countOutcomes(report.attempts, (id) => parsed.has(id))
    const lastResponse = Math.max(...report.attempts.filter((a) => a.status !== null).map((a) => a.end))
    const result: ScaleResult = {
      name: spec.name,
      group: spec.group,
      size,
      counts,
      inFlightAtSignal: report.attempts.filter((a) => a.start < signalAt && a.end > signalAt).length,
      openMs: opened.ms,
      exitMs: exit.at - signalAt,
      exit: describeExit(exit),
      lastResponseToExitMs: lastResponseToExitMs(exit, lastResponse, signalAt),
      teardownMs: teardownMs(exit),
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

/** Waits (at most `limitMs`) until `file` has `count` lines. */
async function linesIn (file: string, count: number, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs
  const lines = () => {
    try {
      return readFileSync(file, 'utf8').split('\n').length - 1
    } catch {
      return 0
    }
  }
  while (lines() < count && Date.now() < end) await sleep(20)
}
