import type { AttachableServer } from '../types/handle.js'
import type { ResolvedOptions } from '../types/options.js'
import type { Logger, ReloadResult, ShutdownSummary, State, Trigger } from '../types/lifecycle.js'
import type { Emit } from '../observing/events.js'
import { noop } from '../support/noop.js'
import { inheritedSource } from './reload/inherit.js'
import { createReloader } from './reload/reload.js'
import { onTerminal } from './reload/scope.js'
import { registerSignals } from './signals.js'
import { warnIfSignalsMayNotArrive } from './signal-reach.js'
import { createSystemdNotifier, processNotifySocket } from './systemd.js'

/** What the process side asks of the lifecycle (lifecycle/lifecycle.ts). */
export interface ShutdownControl {
  readonly state: State
  shutdown: (trigger?: Trigger, how?: { readinessDelay?: number, exit?: boolean }) => Promise<ShutdownSummary>
  fatal: () => void
  force: (reason: string) => void
}

export interface ProcessSideParts {
  opts: ResolvedOptions
  log: Logger
  emit: Emit
  lifecycle: ShutdownControl
  /** The attached servers and integration listeners, in attach order: a reload hands them over. */
  servers: () => AttachableServer[]
  /** Why an integration's listener cannot be handed over now, or null (process/reload/listeners.ts). */
  refusal: () => string | null
  /** Work the drain waits for (lifecycle/tasks.ts). */
  track: (name: string, work: Promise<unknown>) => void
}

export interface ProcessSide {
  /** `graceful.reload()`. */
  reload: () => Promise<ReloadResult>
  /** A reload handed this process's sockets over: what still reaches it is served, never answered 503. */
  readonly handedOver: boolean
  /** The shutdown starts (lifecycle.ts `starting`): tell systemd, stop a reload still booting. */
  starting: (trigger: Trigger, exitFollows: boolean) => void
  /** Readiness holds (systemd's READY=1). */
  ready: () => void
  /** The shutdown is over: release the signals and the reload. */
  close: () => void
}

/**
 * One instance's side of the process: the signals that shut it down (and
 * exit), the in-place reload, what systemd is told. Set up in this order:
 * the reloader throws when another instance owns reload, so it comes before
 * the signals, and a failed creation leaves no listener behind.
 */
export function createProcessSide (parts: ProcessSideParts): ProcessSide {
  const { opts, log, lifecycle } = parts
  let handedOver = false
  // systemd: a process a reload started is announced by its old one.
  const notifySocket = processNotifySocket()
  const systemd = createSystemdNotifier({ log, socket: notifySocket, reloadChild: inheritedSource() === 'reload' })
  // On a terminal, SIGHUP means it hung up: a shutdown signal, not a reload (process/reload/scope.ts).
  const hangUp = opts.reload?.signal === 'SIGHUP' && onTerminal()
  if (hangUp) log.info({}, 'graceful: on a terminal, SIGHUP (a hang-up) shuts down instead of reloading; reload with graceful.reload() or another reload.signal')
  const signals: readonly NodeJS.Signals[] = hangUp ? [...opts.signals, 'SIGHUP'] : opts.signals

  const reloader = opts.reload
    ? createReloader({
      reload: opts.reload,
      signal: hangUp ? null : opts.reload.signal,
      log,
      emit: (event, ...args) => {
        // systemd: the reload's one outcome ('reload' or 'reloadFailed').
        systemd.outcome(args[0] as ReloadResult)
        parts.emit(event, ...args)
      },
      // systemd: RELOADING=1; the new process speaks for the service once it is the main one.
      starting: systemd.reloading,
      childEnv: (): Record<string, string> => notifySocket === null ? {} : { NOTIFY_SOCKET: notifySocket },
      // gRPC: a listening socket an integration cannot hand over refuses the reload by name.
      refusal: parts.refusal,
      state: () => lifecycle.state,
      servers: parts.servers,
      drain: async () => {
        handedOver = true
        const summary = await lifecycle.shutdown('reload', { readinessDelay: opts.reload?.readinessDelay })
        // systemd: the new MAINPID must reach systemd before this process exits.
        await systemd.flush()
        return summary
      },
      exit: opts.exit,
      timeout: opts.timeout,
    })
    : null

  const unregister = signals.length > 0 || opts.handleFatalErrors || opts.pm2
    ? registerSignals({
      signals,
      handleFatalErrors: opts.handleFatalErrors,
      pm2: opts.pm2,
      exit: opts.exit,
      timeout: opts.timeout,
      isShuttingDown: () => lifecycle.state !== 'accepting',
      trigger: (reason, error) => {
        if (error !== undefined) fatalError(reason, error)
        return lifecycle.shutdown(reason, { exit: opts.exit }).then((result) => result.exitCode)
      },
      force: lifecycle.force,
    })
    : noop
  if (opts.signals.length > 0) warnIfSignalsMayNotArrive(log)

  /** An uncaught error: it starts the shutdown, or, during one, lets the drain go on and makes the exit code 1. */
  function fatalError (reason: string, error: unknown): void {
    const draining = lifecycle.state !== 'accepting'
    if (draining) lifecycle.fatal()
    log.error({ err: error, trigger: reason }, draining ? `graceful: ${reason} during the shutdown; the drain goes on, the exit code will be 1` : `graceful: ${reason}, shutting down`)
  }

  return {
    reload: () => reloader?.reload() ?? Promise.resolve({ ok: false, reason: 'the reload option is off', pid: null, code: null, signal: null, durationMs: 0 }),
    get handedOver () { return handedOver },
    starting (trigger, exitFollows) {
      // Each is tracked only when there is something to wait for: a task, even one
      // already settled, holds the drain start and its idle-exit fast path (lifecycle.ts).
      // systemd: STOPPING=1 only for the drain that ends the process, never a reload's,
      // and the process does not exit before systemd-notify delivered it (and what was queued before).
      const stopped = exitFollows ? systemd.stopping() : null
      if (stopped) parts.track('systemd: STOPPING=1', stopped)
      // A stop during a reload: the new process, still booting, is stopped and reaped before this one may exit.
      const booting = reloader?.stopping(trigger)
      if (booting) parts.track('reload: stopping the booting new process', booting)
    },
    ready: systemd.ready,
    close () {
      unregister()
      reloader?.close()
    },
  }
}
