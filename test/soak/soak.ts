import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { join } from 'node:path'
import { sendRequest } from '@graceful/test-kit'
import { Processes } from '@graceful/test-kit/processes'
import { gone, getH2c, killApps, nthLine, nthOutput, startApp, stateOf, writeControl, type App, type Control, type Listen } from '../e2e/helpers/reload-app.js'
import { startSoakLoad, type LoadTotals, type Ports } from './load.js'

// The reload soak: consecutive reloads of test/e2e/fixtures/reload-app.ts
// (an HTTP/1 and an h2c server) under load (./load.ts), with a fault at each
// step, checking after every step that no request failed, exactly one process
// serves (both protocols answer from it), nothing is left over (no orphan, no
// zombie: every other PID is gone from /proc), the serving process leaked no
// descriptor (pipes, files, listening sockets: /proc/<pid>/fd against what it
// had when it started serving), and the PID file names it.
// `pnpm soak` runs the long one (bin.ts); test/e2e/reload-soak.test.ts a short one.

export const faults = ['reload', 'killed while booting', 'throws at boot', 'never ready', 'spawn failure', 'SIGHUP burst', 'SIGTERM mid-reload'] as const
export type Fault = typeof faults[number]

export interface SoakOptions {
  steps: Fault[]
  /** reload.timeout of the app: a "never ready" step lasts this long; a good version must boot within it on a loaded machine. @default 15_000 */
  reloadTimeoutMs?: number
  log?: (line: string) => void
}

export interface FaultRow { fault: Fault, steps: number, reloaded: number, refused: number, requests: number, failed: number, maxStepMs: number }
export interface SoakReport { rows: FaultRow[], totals: LoadTotals, problems: string[], steps: number }

const startedLine = /started a new process, waiting until it is ready","newPid":(\d+)/g
const servers: Listen[] = [{ name: 'h1' }, { name: 'h2c', protocol: 'h2c' }]

export async function runSoak (options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {})
  const dir = mkdtempSync(join(tmpdir(), 'graceful-soak-'))
  const release = join(dir, 'release')
  const moved = join(dir, 'release-moved')
  const control = join(dir, 'control.json')
  const pidFile = join(dir, 'app.pid')
  const processes = new Processes()
  const every = new Set<number>()
  const apps: App[] = []
  const problems: string[] = []
  const rows = new Map<Fault, FaultRow>()
  let version = 1
  const env = { RELOAD_TIMEOUT: String(options.reloadTimeoutMs ?? 15_000), PID_FILE: pidFile }

  const boot = async (ports: Ports | null): Promise<App> => {
    mkdirSync(release, { recursive: true })
    const listen = ports ? [{ ...servers[0], port: ports.h1 }, { ...servers[1], port: ports.h2c }] as Listen[] : servers
    const app = await startApp(processes, { control, first: { version, servers: listen }, cwd: release, env })
    apps.push(app)
    return app
  }
  let app = await boot(null)
  const ports: Ports = { h1: Number(app.addresses[0]), h2c: Number(app.addresses[1]) }
  const load = startSoakLoad(ports)
  const baseline = new Map<number, number>()
  baseline.set(app.current, ownDescriptors(app.current))

  try {
    for (const [i, fault] of options.steps.entries()) {
      const before = { ...load.totals, failures: { ...load.totals.failures } }
      const started = Date.now()
      const row = rows.get(fault) ?? { fault, steps: 0, reloaded: 0, refused: 0, requests: 0, failed: 0, maxStepMs: 0 }
      rows.set(fault, row)
      const old = app.current
      const next = (more: Partial<Control> = {}): Control => ({ version: ++version, servers: listenOn(ports), ...more })
      const failures = () => app.wrapper.lines.filter((line) => line.startsWith('event reloadFailed ')).length
      const expectFailure = async (n: number) => { await nthLine(app.wrapper, /^event reloadFailed /, n, 30_000) }
      const newPid = () => app.wrapper.lines.filter((line) => line.startsWith('pid ')).length
      const spawnedSoFar = () => [...app.wrapper.output().matchAll(startedLine)].length

      switch (fault) {
        case 'reload':
        case 'SIGHUP burst': {
          writeControl(control, next())
          const pids = newPid()
          const count = fault === 'reload' ? 1 : 5
          for (let n = 0; n < count; n++) process.kill(old, 'SIGHUP')
          const [, pid] = await nthLine(app.wrapper, /^pid (\d+) version/, pids)
          await nthLine(app.wrapper, new RegExp(`^reaped ${old} `), 0, 30_000)
          app.current = Number(pid)
          every.add(old)
          row.reloaded++
          break
        }
        case 'throws at boot':
        case 'never ready': {
          const n = failures()
          writeControl(control, next({ boot: fault === 'never ready' ? 'hang' : 'throw' }))
          process.kill(old, 'SIGHUP')
          await expectFailure(n)
          break
        }
        case 'killed while booting': {
          const n = failures()
          const spawned = spawnedSoFar()
          writeControl(control, next({ boot: 'hang' }))
          process.kill(old, 'SIGHUP')
          // Its PID from the old process's log: it may not have run a line of the app yet.
          const [, pid] = await nthOutput(app.wrapper, startedLine, spawned)
          // At a random point of its boot: before Node started, while tsx compiles, once the app hangs.
          await delay(Math.floor(Math.random() * 2000))
          process.kill(Number(pid), 'SIGKILL')
          await expectFailure(n)
          break
        }
        case 'spawn failure': {
          // The release folder the process started in is gone (a deploy moved it): spawn fails with ENOENT.
          const n = failures()
          writeControl(control, next())
          renameSync(release, moved)
          process.kill(old, 'SIGHUP')
          await expectFailure(n)
          renameSync(moved, release)
          break
        }
        case 'SIGTERM mid-reload': {
          const spawned = spawnedSoFar()
          writeControl(control, next({ boot: 'hang' }))
          process.kill(old, 'SIGHUP')
          const [, booting] = await nthOutput(app.wrapper, startedLine, spawned)
          await delay(Math.floor(Math.random() * 2000))
          load.stopped(true)
          process.kill(old, 'SIGTERM')
          await app.wrapper.exited
          every.add(old)
          every.add(Number(booting))
          if (!gone(Number(booting))) problems.push(`step ${i + 1}: the booting process ${booting} outlived its stopped parent`)
          if (app.wrapper.lines.some((line) => line.startsWith(`reaped ${booting} `))) problems.push(`step ${i + 1}: the booting process ${booting} was left to the subreaper`)
          version++
          app = await boot(ports)
          load.stopped(false)
          break
        }
      }
      // What the failed attempts started is gone already (reaped before the event): record it.
      for (const line of app.wrapper.lines) {
        const match = /^pid (\d+) version/.exec(line)
        if (match && Number(match[1]) !== app.current) every.add(Number(match[1]))
      }
      for (const [, pid] of app.wrapper.output().matchAll(startedLine)) if (Number(pid) !== app.current) every.add(Number(pid))
      if (!baseline.has(app.current)) baseline.set(app.current, ownDescriptors(app.current))
      problems.push(...await check(i + 1, fault, app.current, ports, every, baseline, pidFile))
      const after = load.totals
      row.steps++
      row.requests += after.requests - before.requests
      row.failed += after.failed - before.failed
      row.refused += after.refused - before.refused
      row.maxStepMs = Math.max(row.maxStepMs, Date.now() - started)
      log(`step ${i + 1}/${options.steps.length} ${fault}: pid ${app.current}, ${after.requests - before.requests} requests, ${after.failed - before.failed} failed (${JSON.stringify(after.failures)}), ${Date.now() - started} ms`)
    }
  } catch (error) {
    problems.push(`aborted: ${(error as Error).message}`)
  } finally {
    await load.stop()
    for (const each of apps) killApps([...each.pids, ...every])
    await processes.killAll()
    rmSync(dir, { recursive: true, force: true })
  }
  if (load.totals.failed > 0) problems.push(`failed requests: ${JSON.stringify(load.totals.failures)}`)
  return { rows: [...rows.values()], totals: load.totals, problems, steps: options.steps.length }
}

function listenOn (ports: Ports): Listen[] {
  return [{ name: 'h1', port: ports.h1 }, { name: 'h2c', port: ports.h2c, protocol: 'h2c' }]
}

/** The process's descriptors that are not connections: pipes, files, anonymous inodes, and its listening sockets. */
function ownDescriptors (pid: number): number {
  const listening = listeningInodes()
  let count = 0
  for (const fd of safeList(`/proc/${pid}/fd`)) {
    let target: string
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    const socket = /^socket:\[(\d+)\]$/.exec(target)
    if (!socket || listening.has(socket[1] ?? '')) count++
  }
  return count
}

function safeList (path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}

/** Inodes of listening TCP sockets (state 0A) and UNIX sockets (state 01 with the listening flag). */
function listeningInodes (): Set<string> {
  const inodes = new Set<string>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of safeRead(file).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields[3] === '0A' && fields[9]) inodes.add(fields[9])
    }
  }
  return inodes
}

function safeRead (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

async function check (step: number, fault: Fault, serving: number, ports: Ports, every: Set<number>, baseline: Map<number, number>, pidFile: string): Promise<string[]> {
  const problems: string[] = []
  const at = `step ${step} (${fault})`
  // Exactly one process serves: both protocols answer from it, and every other app process is gone (no orphan, no zombie).
  try {
    const [h1, h2] = await Promise.all([sendRequest(ports.h1, '/'), getH2c(ports.h2c)])
    for (const { status, body } of [h1, h2]) if (status !== 200 || !body.includes(` ${serving} `)) problems.push(`${at}: answered ${status} "${body}", not 200 from ${serving}`)
  } catch (error) {
    problems.push(`${at}: a request failed: ${(error as Error).message}`)
  }
  for (const pid of every) {
    if (pid === serving) continue
    const state = stateOf(pid)
    if (state !== null) problems.push(`${at}: process ${pid} is still there (state ${state})`)
  }
  if (stateOf(serving) === null || stateOf(serving) === 'Z') problems.push(`${at}: the serving process ${serving} is gone`)
  const own = ownDescriptors(serving)
  const base = baseline.get(serving) ?? own
  if (own > base) problems.push(`${at}: process ${serving} has ${own} descriptors (pipes, files, listeners), ${base} when it started serving`)
  const named = safeRead(pidFile).trim()
  if (named !== String(serving)) problems.push(`${at}: the PID file names ${named}, not ${serving}`)
  return problems
}
