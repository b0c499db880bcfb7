// In-place restart next to a stop-and-start of the same
// example app, under the same keep-alive load. Reload: SIGHUP → the new process
// is ready → the old one has exited. Stop-and-start: SIGTERM → exit → the same
// app started again on the same port and listening. Every request during
// either is classified (the probe logs the ids the servers parsed, the new
// process's too: it inherits the command line and the environment).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { exampleExists, examples } from '@graceful/test-kit/examples'
import { tmpDir } from '../lib/children.js'
import { countOutcomes, now, type Attempt, type Counts } from '@graceful/test-kit/client'
import { startLoad } from '../lib/load.js'

const probe = fileURLToPath(new URL('../lib/probe.ts', import.meta.url))

export interface ReloadResult {
  name: string
  mode: 'reload' | 'stop-and-start'
  /** Reload: SIGHUP → the new process ready. Stop-and-start: SIGTERM → the old one exited. */
  toReadyMs: number
  /** Reload: SIGHUP → old exited. Stop-and-start: SIGTERM → the new one listening. */
  totalMs: number
  /** Nobody accepting: stop-and-start only (exit → listening); 0 for a reload by construction. */
  gapMs: number
  /** Requests that ended between the signal and `totalMs` + 250 ms, by outcome. */
  counts: Counts
  requests: number
}

export interface ReloadOptions { fast: number, slow: number, warmupMs: number, tailMs: number }

/** The example apps (node:http, Fastify, Express, Koa) that exist. */
export function reloadApps (): { name: string, file: string }[] {
  return examples.filter((example) => example.name !== 'nestjs' && exampleExists(example)).map(({ name, file }) => ({ name, file }))
}

interface App { child: ChildProcess, port: number, exited: Promise<number>, stderr: string[], onLine: (listener: (line: string) => void) => void }

/** Every PID this scenario started or learnt of (reloaded processes): killed at the end, whatever happened. */
const pids = new Set<number>()
export function killReloaded (): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  pids.clear()
}

let guarded = false

function startApp (file: string, env: Record<string, string>): Promise<App> {
  if (!guarded) {
    guarded = true
    // Reloaded processes are not our children: children.ts's killAll() does not know them.
    process.once('exit', killReloaded)
  }
  const child = spawn(process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', '--import', probe, file], {
    cwd: dirname(file),
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', GRACEFUL_TIMEOUT: '10000', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error(`could not start ${file}`)
  pids.add(child.pid)
  const stderr: string[] = []
  const listeners: ((line: string) => void)[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line)
    for (const listener of listeners) listener(line)
  })
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(now())))
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: not listening within 20 s\n${stderr.slice(-5).join('\n')}`)), 20_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening (\d+)/.exec(line)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    void exited.then(() => reject(new Error(`${file}: exited before listening\n${stderr.slice(-5).join('\n')}`)))
  })
  return port.then((p) => ({ child, port: p, exited, stderr, onLine: (listener) => listeners.push(listener) }))
}

/** The message of a JSON log line (pino's `msg` or the examples' `message`), with its fields. */
function parse (line: string): { message: string, fields: Record<string, unknown> } {
  try {
    const fields = JSON.parse(line) as Record<string, unknown>
    return { message: String(fields.msg ?? fields.message ?? ''), fields }
  } catch {
    return { message: line, fields: {} }
  }
}

function readIds (file: string): Set<number> {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // nothing parsed
  }
  return new Set(text.split('\n').filter(Boolean).map(Number))
}

export async function reloadScenario (app: { name: string, file: string }, mode: ReloadResult['mode'], options: ReloadOptions, log: (line: string) => void): Promise<ReloadResult> {
  const idsFile = join(tmpDir, `reload-ids-${process.pid}-${app.name}-${mode}.txt`)
  rmSync(idsFile, { force: true })
  const env = { BENCH_IDS_FILE: idsFile, ...(mode === 'reload' ? { RELOAD: '1' } : {}) }
  const first = await startApp(app.file, env)
  const load = startLoad({ port: first.port, fast: options.fast, slow: options.slow, slowMs: [100, 300], maxRequests: 200_000, maxDurationMs: 60_000, requestTimeout: 10_000 })
  let attempts: Attempt[] = []
  try {
    await sleep(options.warmupMs)
    const signalAt = now()
    let readyAt = 0
    let totalAt = 0
    let gapMs = 0
    if (mode === 'reload') {
      const ready = new Promise<number>((resolve, reject) => {
        first.onLine((line) => {
          const { message, fields } = parse(line)
          if (message.includes('reload: the new process is ready')) {
            pids.add(Number(fields.newPid))
            resolve(now())
          }
          if (message.includes('reload failed')) reject(new Error(`${app.name}: ${message}`))
        })
      })
      process.kill(first.child.pid!, 'SIGHUP')
      readyAt = await ready
      totalAt = await first.exited
    } else {
      process.kill(first.child.pid!, 'SIGTERM')
      readyAt = await first.exited
      await startApp(app.file, { ...env, PORT: String(first.port) })
      totalAt = now()
      gapMs = totalAt - readyAt
    }
    await sleep(options.tailMs)
    attempts = (await load.stop()).filter((attempt) => attempt.end >= signalAt && attempt.end <= totalAt + options.tailMs)
    const parsed = readIds(idsFile)
    const result: ReloadResult = {
      name: app.name,
      mode,
      toReadyMs: readyAt - signalAt,
      totalMs: totalAt - signalAt,
      gapMs,
      counts: countOutcomes(attempts, (id) => parsed.has(id)),
      requests: attempts.length,
    }
    const failed = attempts.length - result.counts.completed
    log(`${mode} ${app.name}: ready ${result.toReadyMs.toFixed(0)} ms, done ${result.totalMs.toFixed(0)} ms, ${attempts.length} requests meanwhile, ${failed} not completed ${JSON.stringify(result.counts)}`)
    return result
  } finally {
    await load.stop()
    killReloaded()
    rmSync(idsFile, { force: true })
  }
}
