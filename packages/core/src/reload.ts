import { spawn, type ChildProcess } from 'node:child_process'
import cluster from 'node:cluster'
import { constants } from 'node:os'
import { Server as NetServer } from 'node:net'
import { debuglog } from 'node:util'
import type { AttachableServer } from './connections.js'
import { invalidOption } from './errors.js'
import { reloadEnv } from './inherit.js'
import { listeningDescriptor } from './node-internals.js'
import { ExitCodes } from './signals.js'
import type { GracefulEvents, Logger, ReloadResult, ShutdownSummary, State } from './types.js'

// The old process's side of an in-place restart (inherit.ts is the new one's):
// start a copy of this process that inherits every attached server's listening
// socket, wait until it is ready, then drain as on SIGTERM minus the readiness
// delay. Until the new process is ready nothing changes here: a new version
// that fails leaves this one serving.

const debug = debuglog('graceful')

/** `reload` option, as the engine uses it. */
export interface ResolvedReload {
  /** The signal that starts a reload, or null for `graceful.reload()` only. */
  signal: NodeJS.Signals | null
  /** How long the new process gets to become ready. */
  timeout: number
  /** The old process's readiness delay once the new one is ready. */
  readinessDelay: number
  /** Where each process writes its PID once ready (systemd's `PIDFile=`). */
  pidFile: string | null
}

/** The `reload` option: `true`, or these. */
export interface ReloadOptions {
  /** The signal that starts a reload; `false`: only `graceful.reload()`. @default 'SIGHUP' */
  signal?: NodeJS.Signals | false
  /** How long the new process gets to boot, listen and become ready, in ms. Then it is killed and this one keeps serving. @default 30_000 */
  timeout?: number
  /**
   * Once the new process is ready, this one keeps serving this long with
   * `Connection: close` (replacing `readinessDelay`, meant for load balancers),
   * so keep-alive clients close their connections after a response, and open
   * the next one on the shared socket, instead of meeting a FIN mid-reuse.
   * @default 500
   */
  readinessDelay?: number
  /**
   * Each process writes its PID here once ready, the new one before the old
   * one drains: point systemd's `PIDFile=` at it and the unit's main PID
   * follows the reload (deploy/README.md).
   */
  pidFile?: string
}

const maxTimer = 2 ** 31 - 1
const reloadKeys = new Set(['signal', 'timeout', 'readinessDelay', 'pidFile'])

/**
 * Validates the `reload` option; `signals` are those that shut down, which it
 * must not share; its readiness delay must leave time to drain (`drainBudget`:
 * timeout minus releaseTimeout).
 */
export function resolveReload (value: unknown, signals: readonly NodeJS.Signals[], drainBudget: number): ResolvedReload | null {
  if (value === undefined || value === false) return null
  const input: ReloadOptions = value === true ? {} : value as ReloadOptions
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidOption('reload', 'a boolean or an object such as { signal: "SIGHUP", timeout: 30000 }', value)
  }
  for (const key of Object.keys(input)) {
    if (!reloadKeys.has(key)) throw invalidOption(`reload.${key}`, `one of ${[...reloadKeys].join(', ')}`, key)
  }
  const timeout = input.timeout ?? 30_000
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > maxTimer) {
    throw invalidOption('reload.timeout', `a number of milliseconds above 0 and at most ${maxTimer}`, timeout)
  }
  const signal = input.signal ?? 'SIGHUP'
  if (signal !== false && (typeof signal !== 'string' || !(signal in constants.signals) || ['SIGKILL', 'SIGSTOP'].includes(signal))) {
    throw invalidOption('reload.signal', 'a catchable signal name such as "SIGHUP", or false', signal)
  }
  if (signal !== false && signals.includes(signal)) {
    throw invalidOption('reload.signal', `a signal that does not also shut down (signals: ${signals.join(', ')})`, signal)
  }
  const readinessDelay = input.readinessDelay ?? Math.min(500, Math.floor(drainBudget / 2))
  if (typeof readinessDelay !== 'number' || !Number.isFinite(readinessDelay) || readinessDelay < 0 || readinessDelay >= drainBudget) {
    throw invalidOption('reload.readinessDelay', `a number of milliseconds from 0 to below timeout - releaseTimeout (${drainBudget})`, readinessDelay)
  }
  const pidFile = input.pidFile ?? null
  if (pidFile !== null && (typeof pidFile !== 'string' || pidFile === '')) throw invalidOption('reload.pidFile', 'a file path', pidFile)
  return { signal: signal === false ? null : signal, timeout, readinessDelay, pidFile }
}

export interface ReloadParts {
  reload: ResolvedReload
  log: Logger
  emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => void
  state: () => State
  /** The attached servers, in attach order. */
  servers: () => AttachableServer[]
  /** The drain, as on SIGTERM, without the readiness delay. */
  drain: () => Promise<ShutdownSummary>
  /** Exit once drained (the `exit` option) and the budget that bounds it. */
  exit: boolean
  timeout: number
}

export interface Reloader {
  reload: () => Promise<ReloadResult>
  /** Releases the signal. */
  close: () => void
}

interface Registry { owner: object | null }
const registryKey = Symbol.for('graceful.reload-registry.v1')
const globalSlot = globalThis as unknown as Record<symbol, Registry | undefined>

/**
 * One instance per process may reload it: the new process replaces the whole
 * process, and the signal must have one owner. Throws before anything is set
 * up when another live instance already has `reload` on.
 */
export function createReloader (parts: ReloadParts): Reloader {
  const registry = (globalSlot[registryKey] ??= { owner: null })
  if (registry.owner !== null) {
    throw invalidOption('reload', 'on in one instance per process (another live instance already has it)', true)
  }
  const owner = {}
  registry.owner = owner
  let running: Promise<ReloadResult> | null = null
  let handedOver = false

  const reload = (): Promise<ReloadResult> => {
    running ??= attempt().finally(() => { if (!handedOver) running = null })
    return running
  }
  const onSignal = () => {
    parts.log.info({ signal: parts.reload.signal }, 'graceful: reload requested')
    void reload()
  }
  const signal = parts.reload.signal
  // Without a listener SIGHUP would kill the process: the listener exists exactly while the option is on.
  if (signal) process.on(signal, onSignal)

  async function attempt (): Promise<ReloadResult> {
    const started = Date.now()
    const refused = precondition()
    if (refused) return failed({ reason: refused, pid: null, code: null, signal: null, durationMs: 0 })
    const servers = parts.servers()
    const fds = servers.map(listeningDescriptor)
    const child = start(fds)
    if (!child.pid) return failed({ reason: 'the new process could not be started', pid: null, code: null, signal: null, durationMs: Date.now() - started })
    parts.log.info({ newPid: child.pid, servers: servers.length, timeout: parts.reload.timeout }, 'graceful: reload: started a new process, waiting until it is ready')

    const outcome = await handshake(child, parts.reload.timeout)
    const durationMs = Date.now() - started
    if (outcome.ok === false) {
      return failed({ reason: outcome.reason, pid: child.pid, code: outcome.code, signal: outcome.signal, durationMs })
    }
    if (parts.state() !== 'accepting') {
      // A shutdown began while the new process booted: it now serves alone.
      parts.log.warn({ newPid: child.pid }, 'graceful: reload: this process began shutting down meanwhile; the new one serves')
    }
    handedOver = true
    const result: ReloadResult = { ok: true, pid: child.pid, durationMs }
    parts.emit('reload', result)
    parts.log.info({ newPid: child.pid, durationMs }, 'graceful: reload: the new process is ready, draining this one')
    handOver()
    return result
  }

  function precondition (): string | null {
    if (parts.state() !== 'accepting') return `this process is already ${parts.state()}`
    if (process.pid === 1) {
      return 'this process is PID 1 (a container?): its exit would end the container; use a rolling restart instead'
    }
    if (cluster.isWorker) return 'this process is a cluster worker: the primary owns its sockets; replace workers from the primary instead'
    const servers = parts.servers()
    if (servers.length === 0) return 'no server is attached'
    const notListening = servers.filter((server) => !server.listening).length
    if (notListening > 0) return `${notListening} of ${servers.length} attached server(s) are not listening`
    if (servers.some((server) => listeningDescriptor(server) < 0)) {
      return 'a listening socket has no file descriptor to hand over (Windows, or a Node.js version whose internals changed)'
    }
    return null
  }

  function start (fds: number[]): ChildProcess {
    const readyFd = 3 + fds.length
    // The same program as this one: execPath, execArgv (loaders such as tsx), argv, cwd, environment.
    return spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        [reloadEnv.fds]: fds.map((_, i) => 3 + i).join(','),
        [reloadEnv.readyFd]: String(readyFd),
        [reloadEnv.parent]: String(process.pid),
      },
      // The new process writes to the same stdout/stderr, and inherits each
      // listening socket at fd 3, 4, …; the last descriptor is the ready pipe.
      stdio: ['inherit', 'inherit', 'inherit', ...fds, 'pipe'],
    })
  }

  function handOver (): void {
    // The new process accepts every new connection from now on: stop taking
    // any here first, so the close window below only has to move the
    // keep-alive connections this process already has. net.Server's close:
    // node:http's own would also end idle connections mid-reuse.
    for (const server of parts.servers()) if (server.listening) NetServer.prototype.close.call(server)
    // The new process lives on after this one: nothing of it may hold this one.
    // Keep a listener: a new process that dies meanwhile is reaped here, not left a zombie.
    const budget = parts.exit ? setTimeout(() => process.exit(ExitCodes.cut), parts.timeout + 100) : undefined
    void parts.drain().then((summary) => {
      clearTimeout(budget)
      if (parts.exit) {
        debug('reload: drained, exit %d', summary.exitCode)
        process.exit(summary.exitCode)
      }
    })
  }

  function failed (failure: Omit<Extract<ReloadResult, { ok: false }>, 'ok'>): ReloadResult {
    const result: ReloadResult = { ok: false, ...failure }
    parts.emit('reloadFailed', result)
    const { pid: newPid, ...fields } = failure
    // `pid` is the logger's own field (pino): the new process is `newPid`.
    parts.log.error({ ...fields, newPid }, `graceful: reload failed, this process keeps serving: ${failure.reason}`)
    return result
  }

  return {
    reload,
    close: () => {
      if (signal) process.off(signal, onSignal)
      if (registry.owner === owner) registry.owner = null
    },
  }
}

type Handshake = { ok: true } | { ok: false, reason: string, code: number | null, signal: NodeJS.Signals | null }

/** Waits for `ready` on the new process's pipe; its exit or the timeout first is a failure (and it is killed). */
function handshake (child: ChildProcess, timeout: number): Promise<Handshake> {
  const pipe = child.stdio[child.stdio.length - 1] as NodeJS.ReadableStream & { destroy: () => void } | null
  return new Promise<Handshake>((resolve) => {
    let text = ''
    const done = (outcome: Handshake) => {
      clearTimeout(timer)
      pipe?.removeListener('data', onData)
      child.removeListener('exit', onExit)
      child.removeListener('error', onError)
      pipe?.destroy()
      if (outcome.ok) {
        // From now on the new process is on its own. Its exit is still
        // reaped by this one while it lives (Node keeps waiting on it).
        child.unref()
      }
      resolve(outcome)
    }
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      if (text.includes('ready\n')) done({ ok: true })
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done({ ok: false, reason: `the new process exited (${signal ?? `code ${code}`}) before it was ready`, code, signal })
    }
    const onError = (error: Error) => {
      done({ ok: false, reason: `the new process could not be started: ${error.message}`, code: null, signal: null })
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      child.removeListener('exit', onExit)
      child.once('exit', (code, signal) => {
        done({ ok: false, reason: `the new process was not ready within ${timeout} ms (killed)`, code, signal })
      })
    }, timeout)
    pipe?.on('data', onData)
    pipe?.on('error', () => {})
    child.once('exit', onExit)
    child.once('error', onError)
  })
}

