import cluster from 'node:cluster'
import { accessSync, constants as fsConstants, statSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname } from 'node:path'
import { debuglog } from 'node:util'
import type { AttachableServer } from '../../types/handle.js'
import { invalidOption } from '../../support/errors.js'
import { stopListening } from './handover.js'
import { inheritedAddress, reloadEnv } from './inherit.js'
import { addressOf } from './listen-address.js'
import { listeningDescriptor } from '../../support/node-internals.js'
import { startAttempt, type Attempt } from './attempt.js'
import { childEnvironment, envFileKeys, unattachedListeners } from './scope.js'
import { ExitCodes } from '../signals.js'
import type { GracefulEvents, Logger, ReloadResult, ShutdownSummary, State } from '../../types/lifecycle.js'
import type { ReloadOptions, ResolvedReload } from '../../types/options.js'

// The old process's side of an in-place restart (inherit.ts is the new one's):
// start a copy of this process that inherits every attached server's listening
// socket, wait until it is ready, then drain as on SIGTERM minus the readiness
// delay. Until the new process is ready nothing changes here: a new version
// that fails leaves this one serving.

const debug = debuglog('graceful')

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
  if (pidFile !== null && !writableFolder(dirname(pidFile))) {
    throw invalidOption('reload.pidFile', 'a path in an existing folder this process can write to', pidFile)
  }
  return { signal: signal === false ? null : signal, timeout, readinessDelay, pidFile }
}

/** `process.cwd()`, or why not: it throws ENOENT once the folder was deleted. */
function workingDirectory (): string | Error {
  try {
    return process.cwd()
  } catch (error) {
    return error as Error
  }
}

function writableFolder (folder: string): boolean {
  try {
    if (!statSync(folder).isDirectory()) return false
    accessSync(folder, fsConstants.W_OK)
    return true
  } catch {
    return false
  }
}

export interface ReloadParts {
  reload: ResolvedReload
  log: Logger
  emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => void
  /** A reload attempt starts, before anything else (systemd's RELOADING=1: systemd.ts). */
  starting?: () => void
  /** Variables the new process gets on top of this one's environment (NOTIFY_SOCKET: systemd.ts). */
  childEnv?: () => Record<string, string>
  /** Why an integration's listener cannot be handed over now, or null (adapter-view.ts: refuseReloadWhen). */
  refusal?: () => string | null
  state: () => State
  /** The attached servers, in attach order. */
  servers: () => AttachableServer[]
  /** The drain, as on SIGTERM, without the readiness delay. */
  drain: () => Promise<ShutdownSummary>
  /** Exit once drained (the `exit` option) and the budget that bounds it. */
  exit: boolean
  timeout: number
  /** The signal that starts a reload here: `reload.signal`, or null when SIGHUP means a terminal hang-up (graceful.ts). */
  signal: NodeJS.Signals | null
}

export interface Reloader {
  reload: () => Promise<ReloadResult>
  /**
   * A stop began (a signal, `shutdown()`): a new process still booting is
   * killed and reaped, and the reload fails. Resolves once it is reaped;
   * null when no new process is booting (nothing for the drain to wait for).
   */
  stopping: (trigger: string) => Promise<void> | null
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
 *
 * The invariant it keeps: each handed-over socket is served by exactly one
 * ready process. The reload succeeds only when the new process is alive,
 * ready and owns every socket this one served (attempt.ts); any other
 * outcome kills and reaps the new process and leaves this one serving.
 */
export function createReloader (parts: ReloadParts): Reloader {
  const registry = (globalSlot[registryKey] ??= { owner: null })
  if (registry.owner !== null) {
    throw invalidOption('reload', 'on in one instance per process (another live instance already has it)', true)
  }
  const owner = {}
  registry.owner = owner
  // Read now, near boot: which environment keys came from --env-file.
  const fromEnvFiles = envFileKeys()
  let running: Promise<ReloadResult> | null = null
  let current: Attempt | null = null
  let handedOver = false

  const reload = (): Promise<ReloadResult> => {
    running ??= attempt().finally(() => {
      current = null
      if (!handedOver) running = null
    })
    return running
  }
  const onSignal = () => {
    parts.log.info({ signal: parts.signal }, 'graceful: reload requested')
    void reload()
  }
  const signal = parts.signal
  // Without a listener SIGHUP would kill the process: the listener exists exactly while the option is on.
  if (signal) process.on(signal, onSignal)

  async function attempt (): Promise<ReloadResult> {
    const started = Date.now()
    parts.starting?.()
    const refused = precondition()
    if (refused) return failed({ reason: refused, pid: null, code: null, signal: null, durationMs: 0 })
    const servers = parts.servers()
    const fds = servers.map(listeningDescriptor)
    const addresses = servers.map((server) => addressOf(server) ?? inheritedAddress(server))
    const readyFd = 3 + fds.length
    const cwd = workingDirectory()
    if (cwd instanceof Error) {
      return failed({ reason: `the new process cannot start in this process's folder: ${cwd.message} (deleted by a deploy?)`, pid: null, code: null, signal: null, durationMs: Date.now() - started })
    }
    current = startAttempt({
      // The same program as this one: execPath, execArgv (loaders such as tsx), argv, cwd.
      command: process.execPath,
      args: [...process.execArgv, ...process.argv.slice(1)],
      cwd,
      env: childEnvironment(fromEnvFiles, {
        ...parts.childEnv?.(),
        [reloadEnv.fds]: fds.map((_, i) => 3 + i).join(','),
        [reloadEnv.addresses]: JSON.stringify(addresses),
        [reloadEnv.readyFd]: String(readyFd),
        [reloadEnv.parent]: String(process.pid),
      }),
      fds,
      sockets: fds.length,
      timeout: parts.reload.timeout,
    })
    if (current.pid !== null) {
      parts.log.info({ newPid: current.pid, servers: servers.length, timeout: parts.reload.timeout }, 'graceful: reload: started a new process, waiting until it is ready')
    }
    const outcome = await current.outcome
    const durationMs = Date.now() - started
    if (!outcome.ok) return failed({ ...outcome, durationMs })
    handedOver = true
    const result: ReloadResult = { ok: true, pid: outcome.pid, durationMs }
    parts.emit('reload', result)
    parts.log.info({ newPid: outcome.pid, durationMs }, 'graceful: reload: the new process is ready, draining this one')
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
    // An integration's own refusal first (gRPC): it names the server more precisely than the scan below.
    const refusal = parts.refusal?.() ?? null
    if (refusal !== null) return refusal
    const unattached = unattachedListeners(servers)
    if (unattached.length > 0) {
      return `listening on ${unattached.join(', ')} without attaching it to graceful: the new process could not take it over (attach it, or close it)`
    }
    return null
  }

  function handOver (): void {
    // The new process accepts every new connection from now on: stop taking
    // any here first, so the close window below only has to move the
    // keep-alive connections this process already has.
    for (const server of parts.servers()) stopListening(server, parts.log)
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
    const next = parts.state() === 'accepting' ? 'this process keeps serving' : 'this process goes on stopping'
    parts.log.error({ ...fields, newPid }, `graceful: reload failed, ${next}: ${failure.reason}`)
    return result
  }

  return {
    reload,
    stopping: (trigger) => current?.abort(`this process began stopping (${trigger}) while the new one booted; the new one was stopped`) ?? null,
    close: () => {
      if (signal) process.off(signal, onSignal)
      if (registry.owner === owner) registry.owner = null
    },
  }
}

