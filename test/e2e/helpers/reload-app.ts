import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import http2 from 'node:http2'
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { http2Reply, within } from '@graceful/test-kit'
import type { Processes, Started } from '@graceful/test-kit/processes'
import { underSubreaper } from './subreaper.js'

// Drives test/e2e/fixtures/reload-app.ts: the faults test and the soak share it.

export const appEntry = fileURLToPath(new URL('../fixtures/reload-app.ts', import.meta.url))
// Absolute, so the app can run from any folder (one the test then deletes).
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

export interface Listen { name: string, port?: number, path?: string, protocol?: 'http1' | 'h2c' }
export interface Control {
  version: number
  boot?: 'ok' | 'throw' | 'hang'
  servers?: Listen[]
  unattached?: boolean
  greeting?: string
  blockParent?: boolean
  readyMarker?: string
}

export interface App {
  wrapper: Started
  /** The serving process (the last one that printed `pid … version …` and became ready). */
  current: number
  /** Every app PID seen. */
  pids: Set<number>
  /** `listening …` of the first process: ports or paths, in attach order. */
  addresses: string[]
  control: string
}

export function writeControl (file: string, control: Control): void {
  writeFileSync(file, JSON.stringify(control))
}

/** Starts the app under the subreaper (it reaps, and prints, whatever the app leaves behind). */
export async function startApp (processes: Processes, options: { control: string, first: Control, cwd?: string, env?: Record<string, string>, nodeArgs?: string[] }): Promise<App> {
  writeControl(options.control, options.first)
  const args = underSubreaper(process.execPath, ['--conditions=@graceful/source', '--import', tsx, ...(options.nodeArgs ?? []), appEntry])
  if (!args) throw new Error(`no prctl number for ${process.arch}`)
  const wrapper = processes.spawn('reload-app under a subreaper', 'perl', args, {
    cwd: options.cwd ?? fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: '', RELOAD_CONTROL: options.control, ...options.env },
  })
  const pids = new Set<number>()
  wrapper.child.stdout?.on('data', () => {
    for (const line of wrapper.lines) {
      const match = /^pid (\d+) version/.exec(line)
      if (match) pids.add(Number(match[1]))
    }
  })
  const [, pid] = await wrapper.line(new RegExp(`^pid (\\d+) version ${options.first.version}$`), 20_000)
  const [, listening] = await wrapper.line(/^listening (.+)$/, 20_000)
  return { wrapper, current: Number(pid), pids, addresses: (listening ?? '').split(' '), control: options.control }
}

/** The `n`-th (from 0) stdout line matching `pattern`, once printed. */
export function nthLine (wrapper: Started, pattern: RegExp, n: number, ms = 20_000): Promise<RegExpExecArray> {
  const found = () => wrapper.lines.map((line) => pattern.exec(line)).filter((match) => match !== null)
  return nth(wrapper, found, [wrapper.child.stdout], n, ms, `line ${n} matching ${pattern}`)
}

/** The `n`-th (from 0) match of `pattern` (global) in stdout and stderr, once printed. */
export function nthOutput (wrapper: Started, pattern: RegExp, n: number, ms = 20_000): Promise<RegExpExecArray> {
  const found = () => [...wrapper.output().matchAll(pattern)]
  return nth(wrapper, found, [wrapper.child.stdout, wrapper.child.stderr], n, ms, `match ${n} of ${pattern}`)
}

/** Waits, re-checking on each chunk of `streams`, until `found()` has more than `n` matches; rejects if the wrapper exits first. */
async function nth (wrapper: Started, found: () => RegExpExecArray[], streams: (Readable | null)[], n: number, ms: number, what: string): Promise<RegExpExecArray> {
  let check = () => {}
  try {
    await within(new Promise<void>((resolve, reject) => {
      check = () => {
        if (found().length > n) resolve()
        else if (!wrapper.alive()) reject(new Error(`exited before ${what}:\n${wrapper.output()}`))
      }
      for (const stream of streams) stream?.on('data', check)
      void wrapper.exited.then(check)
      check()
    }), ms, `${what}\n${wrapper.output()}`)
  } finally {
    for (const stream of streams) stream?.off('data', check)
  }
  return found()[n] as RegExpExecArray
}

/** GET over h2c (HTTP/2 without TLS) on a new session. */
export function getH2c (port: number, path = '/'): Promise<{ status: number, body: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  const failed = new Promise<never>((_resolve, reject) => session.on('error', reject))
  const reply = Promise.race([http2Reply(session.request({ ':path': path })), failed]).finally(() => session.close())
  return within(reply, 5000, `h2c GET ${path}`)
}

/** True once the PID is gone from /proc: exited and reaped, not a zombie. */
export function gone (pid: number): boolean {
  return !existsSync(`/proc/${pid}`)
}

/** The process's state letter (R, S, Z…), or null when gone. */
export function stateOf (pid: number): string | null {
  try {
    return /^State:\s+(\w)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

/** Kills every app process still alive (SIGKILL, only those running our fixture). */
export function killApps (pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('reload-app')) process.kill(pid, 'SIGKILL')
    } catch {
      // Gone.
    }
  }
}
