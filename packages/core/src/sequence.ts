import { constants } from 'node:os'
import type { Tracker } from './connections.js'
import { ErrorCodes, GracefulError } from './errors.js'
import { runReleaseHooks, type ReleaseHook } from './hooks.js'
import type { ResolvedOptions } from './options.js'
import { ExitCodes, forcedExitCode } from './signals.js'
import type { Tasks } from './tasks.js'
import type {
  CutRequest, DrainContext, GracefulEvents, HookResult, Logger, NotifyHook, Rejection, ShutdownSummary, State, Stats, Trigger,
} from './types.js'
import { createWaiter } from './waiter.js'

// After a cut, the 503s get this long to flush before their sockets are destroyed.
const cutFlushMs = 100

export interface SequenceParts {
  opts: ResolvedOptions
  log: Logger
  emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => void
  tracker: () => Tracker
  tasks: Tasks
  notifyHooks: readonly { name: string, hook: NotifyHook }[]
  releaseHooks: readonly ReleaseHook[]
  rejection: Rejection
  /** Called once, when the sequence is over (signals are released then). */
  closed: () => void
  /** True when the process exits right after this shutdown: idle connections are then left for the kernel to close. */
  exiting?: () => boolean
}

export interface Sequence {
  readonly state: State
  readonly phase: 'accepting' | 'delay' | 'drain'
  /** Aborts when the drain starts. */
  readonly drainingSignal: AbortSignal
  /** The context tracked tasks get: its signal aborts at the drain deadline. */
  taskContext: () => DrainContext
  stats: () => Stats
  /** Something was released: re-check whether the current wait is over. */
  changed: () => void
  /** A request finished after the trigger: count it. */
  settled: (finished: boolean, rejected: boolean, cut: boolean) => void
  /** A 503 for a request no attached server tracks (supertest's own server, say). */
  rejectedUntracked: () => void
  shutdown: (trigger?: Trigger) => Promise<ShutdownSummary>
  /** Skip ahead: destroy everything, stop waiting, skip release hooks. */
  force: (reason: string) => void
}

/**
 * The shutdown sequence, `accepting → draining → closed`: readiness delay,
 * drain, deadline cut, release hooks, summary. Runs once; `force()` skips ahead.
 */
export function createSequence (parts: SequenceParts): Sequence {
  const { opts, log, emit, tasks, notifyHooks, releaseHooks, rejection } = parts
  const drainingController = new AbortController()
  const deadlineController = new AbortController()
  const waiter = createWaiter(() => forcedBy !== null)
  const counts = { completed: 0, rejected: 0 }

  let state: State = 'accepting'
  let phase: 'accepting' | 'delay' | 'drain' = 'accepting'
  let summary: Promise<ShutdownSummary> | undefined
  let forcedBy: string | null = null
  let budgetEnd = 0
  let drainDeadline = 0
  let currentHook: string | null = null

  function stats (): Stats {
    return {
      state,
      ...parts.tracker().counts(),
      tasks: tasks.size,
      timeLeft: state === 'accepting' ? null : Math.max(0, budgetEnd - Date.now()),
      hook: currentHook,
    }
  }

  async function run (trigger: Trigger): Promise<ShutdownSummary> {
    const tracker = parts.tracker()
    const started = Date.now()
    state = 'draining'
    phase = 'delay'
    budgetEnd = started + opts.timeout
    drainDeadline = budgetEnd - opts.releaseTimeout
    emit('draining', { ...stats(), trigger })
    log.info({ trigger, ...stats(), readinessDelay: opts.readinessDelay, timeout: opts.timeout }, 'graceful: draining, readiness is now not-ready')
    tracker.startClosing()

    // Nothing listening, nothing a load balancer could still route here: no reason to wait.
    if (opts.readinessDelay > 0 && tracker.anyListening) await waiter.sleep(opts.readinessDelay)
    const drainStarted = Date.now()
    phase = 'drain'
    drainingController.abort(new GracefulError(ErrorCodes.DRAINING, 'draining started'))
    // The process exits right after a drain with nothing to wait for: its idle
    // connections are left for the kernel to close (a FIN each) at exit.
    const leaveIdle = (parts.exiting?.() ?? false) && !tracker.busy && tasks.size === 0 && notifyHooks.length === 0
    const listenersClosed = tracker.startDrain(leaveIdle)
    const notifyResults = startNotifyHooks({ signal: deadlineController.signal, deadline: drainDeadline })
    emit('drain', stats())
    log.debug({ ...stats() }, 'graceful: listeners closed, idle connections ended')

    let cut: CutRequest[] = []
    let holding: string[] = []
    const clean = await waiter.waitFor(() => !tracker.busy && tasks.size === 0, drainDeadline)
    if (clean) {
      emit('drained', stats())
      log.info({ ...stats(), ms: Date.now() - drainStarted }, 'graceful: drained')
    } else if (!forcedBy) {
      holding = [...tracker.holding(), ...tasks.names().map((name) => `task ${name}`)]
      deadlineController.abort(new GracefulError(ErrorCodes.DEADLINE, 'drain deadline reached'))
      cut = tracker.cut(rejection)
      emit('timeout', { ...stats(), holding, cut })
      log.warn({ holding, cut, ...stats() }, 'graceful: drain deadline reached, cutting what is left')
      reportCut(cut)
      await waiter.waitFor(() => tracker.inFlight === 0, Math.min(Date.now() + cutFlushMs, budgetEnd))
    }
    tracker.destroyAll(leaveIdle)
    // net.Server's close callback waits for every connection: those left for the kernel never end before the exit.
    if (!leaveIdle) await Promise.race([listenersClosed, waiter.sleep(Math.min(cutFlushMs, budgetEnd - Date.now()))])
    const drainEnded = Date.now()

    state = 'closed'
    const hooks = [...notifyResults, ...await release()]
    const ended = Date.now()
    waiter.clear()

    const result: ShutdownSummary = {
      trigger,
      outcome: forcedBy ? 'forced' : cut.length > 0 || holding.length > 0 ? 'cut' : hooks.some((h) => h.status !== 'ok') ? 'failed' : 'clean',
      exitCode: 0,
      durations: {
        readinessDelay: drainStarted - started,
        drain: drainEnded - drainStarted,
        release: ended - drainEnded,
        total: ended - started,
      },
      requests: { completed: counts.completed, rejected: counts.rejected, cut: cut.length },
      cut,
      holding,
      hooks,
    }
    result.exitCode = exitCodeFor(result, trigger)
    emit('closed', result)
    log.info({ trigger, outcome: result.outcome, exitCode: result.exitCode, durations: result.durations, requests: result.requests }, 'graceful: closed')
    parts.closed()
    return result
  }

  /** Release hooks, unless a second signal asked for "now". */
  async function release (): Promise<HookResult[]> {
    if (forcedBy) {
      return releaseHooks.map((hook): HookResult => ({ name: hook.name, kind: 'release', status: 'skipped', durationMs: 0 })).reverse()
    }
    return runReleaseHooks(releaseHooks, budgetEnd, {
      start: (name) => { currentHook = name },
      result: (result) => {
        currentHook = null
        if (result.status !== 'ok') reportHook(result)
      },
    })
  }

  function exitCodeFor (result: ShutdownSummary, trigger: Trigger): number {
    if (forcedBy) return forcedBy in constants.signals ? forcedExitCode(forcedBy as NodeJS.Signals) : ExitCodes.failed
    if (trigger === 'uncaughtException' || trigger === 'unhandledRejection') return ExitCodes.failed
    if (result.outcome === 'cut') return ExitCodes.cut
    if (result.outcome === 'failed') return ExitCodes.failed
    return ExitCodes.clean
  }

  /** Notify hooks run as tracked tasks: the drain waits for them. */
  function startNotifyHooks (context: DrainContext): HookResult[] {
    const results: HookResult[] = []
    for (const { name, hook } of notifyHooks) {
      const begun = Date.now()
      tasks.run(`notify ${name}`, hook, context).then(
        () => results.push({ name, kind: 'notify', status: 'ok', durationMs: Date.now() - begun }),
        (error: unknown) => {
          const result: HookResult = { name, kind: 'notify', status: 'error', durationMs: Date.now() - begun, error }
          results.push(result)
          reportHook(result)
        },
      )
    }
    return results
  }

  function reportHook (result: HookResult): void {
    emit('hookError', result)
    log.error({ hook: result.name, kind: result.kind, status: result.status, err: result.error }, `graceful: ${result.kind} hook "${result.name}" ${result.status === 'timeout' ? 'timed out' : 'failed'}`)
  }

  function reportCut (cut: CutRequest[]): void {
    if (!opts.onCut || cut.length === 0) return
    try {
      opts.onCut(cut)
    } catch (error) {
      log.error({ err: error }, 'graceful: onCut threw')
    }
  }

  return {
    get state () { return state },
    get phase () { return phase },
    drainingSignal: drainingController.signal,
    taskContext: () => ({ signal: deadlineController.signal, deadline: drainDeadline }),
    stats,
    changed: waiter.wake,
    settled (finished, rejected, cut) {
      if (state === 'accepting' || cut || !finished) return
      // A 503 queued behind a `Connection: close` response is never sent (Node drops it): not counted.
      if (rejected) counts.rejected++
      else counts.completed++
    },
    rejectedUntracked: () => { counts.rejected++ },
    shutdown (trigger = 'shutdown') {
      summary ??= run(trigger)
      return summary
    },
    force (reason) {
      if (forcedBy || state === 'closed') return
      forcedBy = reason
      log.warn({ reason, ...stats() }, 'graceful: forced, destroying every connection')
      deadlineController.abort(new GracefulError(ErrorCodes.DEADLINE, `forced by ${reason}`))
      parts.tracker().destroyAll()
      waiter.wake()
    },
  }
}
