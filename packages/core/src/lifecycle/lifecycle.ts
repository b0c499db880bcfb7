import type { Tracker } from '../connections/tracker.js'
import { ErrorCodes, GracefulError } from '../support/errors.js'
import { runReleaseHooks, type ReleaseHook } from './hooks.js'
import { createObservers } from '../observing/observers.js'
import type { ResolvedOptions } from '../types/options.js'
import { summarize } from './summary.js'
import type { Tasks } from './tasks.js'
import { startNotifyHooks, type NotifyHooksRun } from './notify-hooks.js'
import type {
  CutRequest, DelayEnd, DelayReport, DrainContext, GracefulEvents, HookResult, Logger, NotifyHook, Phase, Rejection, ShutdownSummary, State, Stats, Trigger,
} from '../types/lifecycle.js'
import type { InFlight } from '../connections/requests.js'
import type { Pause } from './pause.js'
import { createReadinessDelay } from './quiet-period.js'
import { createWaiter } from '../support/waiter.js'

function stateOf (phase: Phase): State {
  return phase === 'accepting' || phase === 'closed' ? phase : 'draining'
}

// After a cut, the 503s get this long to flush before their sockets are destroyed.
const cutFlushMs = 100

export interface LifecycleParts {
  opts: ResolvedOptions
  log: Logger
  emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => void
  tracker: () => Tracker
  tasks: Tasks
  notifyHooks: readonly { name: string, hook: NotifyHook }[]
  releaseHooks: readonly ReleaseHook[]
  rejection: Rejection
  /** Servers the tracker does not see (gRPC) are serving: a load balancer may still route here. */
  externalServing: () => boolean
  /** Called once, when the sequence is over (signals are released then). */
  closed: () => void
  /** Whether anything could still route here, so `readinessDelay` is of use (skip-delay-on-laptop.ts). */
  couldRouteHere?: () => boolean
  /** The shutdown starts, before the `'draining'` event: `exitFollows` when the process exits once it ends (systemd's STOPPING=1). */
  starting?: (trigger: Trigger, exitFollows: boolean) => void
  /** The maintenance pause (pause.ts): shown in stats; the time it already kept the instance out of rotation shortens `readinessDelay`. */
  pause?: Pick<Pause, 'current' | 'outOfRotationMs'>
}

export interface Lifecycle {
  /** Where the lifecycle is: {@link Phase}. */
  readonly phase: Phase
  /** The public view of {@link Lifecycle.phase}: `delay` and `drain` are both `draining`. */
  readonly state: State
  /** Aborts when the drain starts. */
  readonly drainingSignal: AbortSignal
  /** The context tracked tasks get: its signal aborts at the drain deadline. */
  taskContext: () => DrainContext
  stats: () => Stats
  /** Something was released: re-check whether the current wait is over. */
  changed: () => void
  /** A request tracked after the trigger is over: count it. */
  settled: (entry: InFlight) => void
  /** A connection (or HTTP/2 session) accepted after the trigger: the quiet period watches it. */
  arrived: (key: object, onClose: (listener: () => void) => void) => void
  /** A request arriving after the trigger on connection `key`: the quiet period counts it unless it is a probe. */
  requested: (key: object | null, probe: boolean) => void
  /** A 503 for a request no attached server tracks (supertest's own server, say). */
  rejectedUntracked: () => void
  /**
   * Starts the shutdown, or joins the one running. `readinessDelay`: a reload's own, in place of
   * the option's, waited even with the listeners already closed. `exit`: the process exits once
   * this shutdown ends (a signal's, with the `exit` option), also when it joins a running one.
   */
  shutdown: (trigger?: Trigger, how?: { readinessDelay?: number, exit?: boolean }) => Promise<ShutdownSummary>
  /** Skip ahead: destroy everything, stop waiting, abandon the running release hook and skip the rest. */
  force: (reason: string) => void
  /** An uncaught error during the shutdown: the drain goes on, the exit code becomes non-zero. */
  fatal: () => void
}

/**
 * The shutdown lifecycle: readiness delay, drain, deadline cut, release hooks,
 * summary. Runs once; `force()` skips ahead.
 */
export function createLifecycle (parts: LifecycleParts): Lifecycle {
  const { opts, log, emit, tasks, notifyHooks, releaseHooks, rejection } = parts
  // Made when first asked for (`graceful.signal`, streams, WebSockets): aborting
  // a signal nobody holds would cost ~0.5 ms of cold code at every trigger.
  let drainingController: AbortController | undefined
  const deadlineController = new AbortController()
  const forcedController = new AbortController()
  const waiter = createWaiter(() => forcedBy !== null)
  const counts = { completed: 0, rejected: 0 }
  const observers = createObservers()

  let phase: Phase = 'accepting'
  let summary: Promise<ShutdownSummary> | undefined
  let forcedBy: string | null = null
  let budgetEnd = 0
  let drainDeadline = 0
  let currentHook: string | null = null
  let finished = false
  let fatalSeen = false
  let exitFollows = false
  const readinessDelays = createReadinessDelay(opts.quietPeriod, waiter)

  function drainingReason (): GracefulError {
    return new GracefulError(ErrorCodes.DRAINING, 'draining started')
  }

  function stats (): Stats {
    return {
      state: stateOf(phase),
      ...parts.tracker().counts(),
      tasks: tasks.size,
      timeLeft: phase === 'accepting' ? null : Math.max(0, budgetEnd - Date.now()),
      hook: currentHook,
      paused: parts.pause?.current ?? null,
    }
  }

  async function run (trigger: Trigger, readinessDelay: number, always: boolean): Promise<ShutdownSummary> {
    const started = Date.now()
    // Without a delay to wait, the drain starts in this same turn.
    const delay = delayPhase(trigger, readinessDelay, always, started)
    const endedBy = delay ? await delay : 'none'
    const drainStarted = Date.now()
    const delayReport = { ms: drainStarted - started, endedBy: forcedBy ? 'forced' as const : endedBy }
    const { notify, idleLeft, ...left } = await drainPhase(delayReport, drainStarted)
    const drainEnded = Date.now()
    const hooks = await releasePhase(notify, idleLeft)
    return closedPhase(trigger, { started, drainStarted, drainEnded }, delayReport, left, hooks)
  }

  /** `delay`: readiness 503, everything else served (with `Connection: close`) while the delay lasts; null: no delay to wait. */
  function delayPhase (trigger: Trigger, readinessDelay: number, always: boolean, started: number): Promise<DelayEnd> | null {
    const tracker = parts.tracker()
    // Paused (readiness 503) for part of the delay already: only the rest is left to wait.
    // Not a reload's delay: that one hands keep-alive clients over, whatever the load balancer knows.
    if (!always) readinessDelay = Math.max(0, readinessDelay - (parts.pause?.outOfRotationMs(started) ?? 0))
    phase = 'delay'
    budgetEnd = started + opts.timeout
    drainDeadline = budgetEnd - opts.releaseTimeout
    // Nothing listening, nothing a load balancer could still route here: no reason to wait.
    const wait = readinessDelay > 0 && (always || ((tracker.anyListening || parts.externalServing()) && (parts.couldRouteHere?.() ?? true)))
    // First: from here on the tracker counts exactly, instead of asking every
    // connection. Without a wait, the drain starts in this same turn.
    tracker.startDelay(!wait)
    const planned = !wait ? 0 : always || !opts.quietPeriod ? readinessDelay : { ...opts.quietPeriod }
    const draining = { ...stats(), trigger, readinessDelay: planned }
    // After the event's stats are read: what it starts is tracked, not counted in them.
    parts.starting?.(trigger, exitFollows)
    emit('draining', draining)
    log.info({ ...draining, timeout: opts.timeout }, 'graceful: draining, readiness is now not-ready')
    return wait ? readinessDelays.wait(readinessDelay, started, !always) : null
  }

  /** `drain`: listeners closed, idle connections ended, in-flight work waited for until the drain deadline. */
  async function drainPhase (delayReport: DelayReport, drainStarted: number) {
    const tracker = parts.tracker()
    phase = 'drain'
    drainingController?.abort(drainingReason())
    const idleLeft = exitClosesIdle('drain start') ? tracker.leaveIdleToExit() : null
    const listenersClosed = tracker.startDrain()
    const notify = startNotifyHooks(notifyHooks, tasks, { signal: deadlineController.signal, deadline: drainDeadline }, forcedBy !== null, reportHook)
    emit('drain', { ...stats(), readinessDelay: delayReport })
    log.debug({ ...stats(), readinessDelay: delayReport }, 'graceful: listeners closed, idle connections ended')

    let left: { cut: CutRequest[], holding: string[] } = { cut: [], holding: [] }
    const clean = await waiter.waitFor(() => !tracker.busy && tasks.size === 0, drainDeadline)
    if (clean) {
      emit('drained', stats())
      log.info({ ...stats(), ms: Date.now() - drainStarted }, 'graceful: drained')
    } else if (!forcedBy) {
      left = await cutAtDeadline(notify)
    }
    const closing = endConnections(listenersClosed)
    if (closing) await closing
    return { notify, idleLeft, ...left }
  }

  /** The drain deadline: what has not started gets a 503, the rest is destroyed, tasks are aborted; each is reported. */
  async function cutAtDeadline (notify: NotifyHooksRun): Promise<{ cut: CutRequest[], holding: string[] }> {
    const tracker = parts.tracker()
    const holding = [...tracker.holding(), ...tasks.names().map((name) => `task ${name}`)]
    deadlineController.abort(new GracefulError(ErrorCodes.DEADLINE, 'drain deadline reached'))
    const cut = [...tracker.cut(rejection), ...tasks.cut(Date.now())]
    notify.timedOut('did not settle by the drain deadline')
    emit('timeout', { ...stats(), holding, cut })
    log.warn({ holding, cut, ...stats() }, 'graceful: drain deadline reached, cutting what is left')
    reportCut(cut)
    await waiter.waitFor(() => tracker.inFlight === 0, Math.min(Date.now() + cutFlushMs, budgetEnd))
    return { cut, holding }
  }

  /** The drain is over: what is left is destroyed, or left to an exit that follows. Returns what to wait for, if anything. */
  function endConnections (listenersClosed: Promise<void>): Promise<unknown> | null {
    const tracker = parts.tracker()
    // Exiting now: what is left is idle or already closing (a FIN sent after
    // its last response), and the exit closes it at once.
    const exiting = exitClosesIdle('drain end')
    if (exiting) tracker.leaveIdleToExit()
    tracker.endDrain()
    // net.Server's close callback waits for every connection: those left for the kernel never end before the exit.
    return exiting ? null : Promise.race([listenersClosed, waiter.sleep(Math.min(cutFlushMs, budgetEnd - Date.now()))])
  }

  /** `closed`: release hooks run, last registered first; a notify hook still running is reported. */
  async function releasePhase (notify: NotifyHooksRun, idleLeft: (() => void) | null): Promise<HookResult[]> {
    phase = 'closed'
    notify.timedOut(`was still running when ${forcedBy ?? 'the drain'} ended it`)
    const released = release()
    // Idle connections were left for an exit that was to follow at once:
    // release hooks still running after this turn delay it, so idle means
    // idle again, and those connections get their FIN now (a client reusing
    // one during a slow hook must find it closed). A framework's own quick
    // close (Fastify's) is over by then, and the fast path stays free.
    if (idleLeft) {
      const late = setImmediate(idleLeft)
      void released.then(() => clearImmediate(late))
    }
    return [...notify.results, ...await released]
  }

  /** The summary, the exit code, the `'closed'` event. */
  function closedPhase (trigger: Trigger, times: { started: number, drainStarted: number, drainEnded: number }, delayReport: DelayReport, left: { cut: CutRequest[], holding: string[] }, hooks: HookResult[]): ShutdownSummary {
    const ended = Date.now()
    waiter.clear()
    finished = true
    const result = summarize({ trigger, times: { ...times, ended }, delayReport, counts, ...left, hooks, forcedBy, fatalSeen })
    emit('closed', result)
    log.info({ trigger, outcome: result.outcome, exitCode: result.exitCode, durations: result.durations, readinessDelay: result.readinessDelay, requests: result.requests }, 'graceful: closed')
    parts.closed()
    return result
  }

  /**
   * The idle-exit fast path, behind this one decision: will the exit close the
   * idle connections? When the process exits right after this shutdown,
   * connections with nothing in flight are left for the exit to close (the
   * kernel sends each its FIN) instead of being ended one by one in
   * JavaScript: ~20 ms at 1,000 idle connections, where DESIGN.md allows 5 ms
   * over a process that calls `process.exit()`. At the drain start it also
   * takes a drain with nothing to wait for: a drain that waits ends its idle
   * connections at once, so that a client reusing one meanwhile finds it closed.
   */
  function exitClosesIdle (moment: 'drain start' | 'drain end'): boolean {
    if (!exitFollows) return false
    return moment === 'drain end' || (!parts.tracker().busy && tasks.size === 0 && notifyHooks.length === 0)
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
    }, forcedController.signal)
  }

  function reportHook (result: HookResult): void {
    emit('hookError', result)
    log.error({ hook: result.name, kind: result.kind, status: result.status, err: result.error }, `graceful: ${result.kind} hook "${result.name}" ${result.status === 'timeout' ? 'timed out' : 'failed'}`)
  }

  function reportCut (cut: CutRequest[]): void {
    if (!opts.onCut || cut.length === 0) return
    observers.call('onCut', opts.onCut, cut)
  }

  return {
    get phase () { return phase },
    get state () { return stateOf(phase) },
    get drainingSignal () {
      if (!drainingController) {
        drainingController = new AbortController()
        if (phase === 'drain' || phase === 'closed') drainingController.abort(drainingReason())
      }
      return drainingController.signal
    },
    taskContext: () => ({ signal: deadlineController.signal, deadline: drainDeadline }),
    stats,
    changed: waiter.wake,
    settled (entry) {
      if (phase === 'accepting' || entry.cut || !entry.res.writableFinished) return
      // A 503 queued behind a `Connection: close` response is never sent (Node drops it): not counted.
      if (entry.rejected) counts.rejected++
      else counts.completed++
    },
    arrived: readinessDelays.arrived,
    requested: readinessDelays.requested,
    rejectedUntracked: () => { counts.rejected++ },
    shutdown (trigger = 'shutdown', { readinessDelay, exit = false } = {}) {
      if (exit) exitFollows = true
      if (summary) return summary
      // Stored before run() starts: its synchronous part calls user code (a
      // 'draining' listener, notify hooks) that may call shutdown() again.
      let start!: (result: Promise<ShutdownSummary>) => void
      summary = new Promise<ShutdownSummary>((resolve) => { start = resolve })
      start(run(trigger, readinessDelay ?? opts.readinessDelay, readinessDelay !== undefined))
      return summary
    },
    force (reason) {
      // While release hooks run (phase 'closed'), force still skips what is left of them.
      if (forcedBy || finished) return
      forcedBy = reason
      log.warn({ reason, ...stats() }, 'graceful: forced, destroying every connection')
      deadlineController.abort(new GracefulError(ErrorCodes.DEADLINE, `forced by ${reason}`))
      parts.tracker().destroyAll()
      forcedController.abort()
      waiter.wake()
    },
    fatal () {
      if (!finished) fatalSeen = true
    },
  }
}
