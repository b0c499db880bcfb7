import { EventEmitter } from 'node:events'
import { constants } from 'node:os'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import { createTracker, writeRejection, type AttachableServer, type InFlight } from './connections.js'
import { ErrorCodes, GracefulError } from './errors.js'
import { liveness, matchHealth, readiness } from './health.js'
import { runReleaseHooks, toReleaseHook, type ReleaseHook } from './hooks.js'
import { resolveOptions, type GracefulOptions, type ResolvedOptions } from './options.js'
import { ExitCodes, forcedExitCode, registerSignals } from './signals.js'
import { createTasks } from './tasks.js'
import type {
  AnyRequest, AnyResponse, CutRequest, DrainContext, GateDecision, GracefulEvents, HealthResponse,
  HookOptions, HookResult, NotifyHook, Rejection, Releasable, ShutdownSummary, State, Stats, Trigger,
} from './types.js'

const debug = debuglog('graceful')
const silent = { debug: noop, info: noop, warn: noop, error: noop }
// After a cut, the 503s get this long to flush before their sockets are destroyed.
const cutFlushMs = 100

/** The handle returned by {@link createGraceful}. */
export interface Graceful {
  /** `accepting`, `draining` or `closed`. */
  readonly state: State
  /** What readiness reports now (without the user's checks). */
  readonly ready: boolean
  /** Aborts when the drain starts (after `readinessDelay`): Go's `ctx.Done()` for long-running work. */
  readonly signal: AbortSignal
  /** The options in force, defaults applied. */
  readonly options: Readonly<ResolvedOptions>
  /** How many servers are attached: adapters warn when a request arrives and this is 0. */
  readonly attached: number
  /** Track the connections and requests of a server. Call once per server (app + metrics port). Returns `detach`. */
  attach: (server: AttachableServer) => () => void
  /** Starts the shutdown. Idempotent: every caller gets the same promise and summary. Never exits the process. */
  shutdown: (trigger?: Trigger) => Promise<ShutdownSummary>
  /** For adapters: serve this request, or answer it with the draining 503. Adds `Connection: close` while draining. */
  gate: (req: AnyRequest, res: AnyResponse) => GateDecision
  /** Writes the draining 503 on a raw response. */
  reject: (req: AnyRequest, res: AnyResponse) => void
  /** The draining 503 (status, headers, JSON body), for adapters that answer through their framework. */
  readonly rejection: Rejection
  /** {@link Graceful.rejection} fit for this request: without `Connection` on HTTP/2, which forbids it. */
  rejectionFor: (req: AnyRequest) => Rejection
  /** The health endpoint a URL names, if any (query strings ignored). */
  matchHealth: (url: string | undefined) => 'liveness' | 'readiness' | null
  liveness: () => HealthResponse
  readiness: () => Promise<HealthResponse>
  /** A request listener (node:http, https, or the http2 compatibility API) that gates, answers health, then calls yours. */
  handler: <Req extends AnyRequest = IncomingMessage, Res extends AnyResponse = ServerResponse>(listener: (req: Req, res: Res) => void) => (req: Req, res: Res) => void
  /** With `readyWhen: 'manual'` (or before listening): report ready from now on. */
  markReady: () => void
  /** Notify hook, run when the drain starts: close WebSockets (1001), end SSE streams, stop consumers. The drain waits for it. */
  onDraining: (hook: NotifyHook, options?: Pick<HookOptions, 'name'>) => void
  /** Release hook, run after the drain, last registered first, under its own timeout. */
  onClose: (target: Releasable, options?: HookOptions) => void
  /**
   * Skip ahead, as a second signal does: destroy every connection now, skip the
   * remaining waits and the release hooks. Starts the shutdown if needed.
   */
  force: (reason?: string) => Promise<ShutdownSummary>
  /** Work the drain waits for. A function receives a signal that aborts at the drain deadline. */
  track: <T>(work: Promise<T> | ((context: DrainContext) => T | PromiseLike<T>), options?: { name?: string }) => Promise<T>
  /** Live counts. */
  stats: () => Stats
  on: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  once: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  off: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  /** `await using g = createGraceful()`: shuts down at the end of the scope. */
  [Symbol.asyncDispose]: () => Promise<void>
}

/** For adapters: the option keys they add, so validation still rejects unknown ones. */
export interface AdapterConfig {
  extraKeys?: readonly string[]
}

/**
 * Creates one graceful instance. Options are validated now: a bad one throws a
 * `TypeError` with code `ERR_GRACEFUL_INVALID_OPTION` naming it.
 *
 * @example
 * const graceful = createGraceful({ timeout: 10_000, readinessDelay: 5_000 })
 * const server = http.createServer(graceful.handler(app))
 * graceful.attach(server)
 * graceful.onClose(() => db.end(), { name: 'db' })
 * server.listen(3000)
 */
export function createGraceful (options?: GracefulOptions, adapter: AdapterConfig = {}): Graceful {
  return createFromResolved(resolveOptions(options, adapter.extraKeys))
}

function createFromResolved (opts: ResolvedOptions): Graceful {
  const log = opts.logger ?? silent
  const emitter = new EventEmitter()
  const drainingController = new AbortController()
  const deadlineController = new AbortController()
  const notifyHooks: { name: string, hook: NotifyHook }[] = []
  const releaseHooks: ReleaseHook[] = []

  let state: State = 'accepting'
  let phase: 'accepting' | 'delay' | 'drain' = 'accepting'
  let summary: Promise<ShutdownSummary> | undefined
  let markedReady = false
  let forcedBy: string | null = null
  let budgetEnd = 0
  let drainDeadline = 0
  let currentHook: string | null = null
  let wake: (() => void) | null = null
  const counts = { completed: 0, rejected: 0 }
  const timers = new Set<NodeJS.Timeout>()

  const rejection: Rejection = {
    statusCode: 503,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      connection: 'close',
      'retry-after': String(opts.retryAfter),
    },
    body: JSON.stringify({
      statusCode: 503,
      code: ErrorCodes.DRAINING,
      error: 'Service Unavailable',
      message: 'The server is shutting down. Retry on a new connection.',
    }),
  }

  const h2Rejection: Rejection = {
    ...rejection,
    headers: Object.fromEntries(Object.entries(rejection.headers).filter(([name]) => name !== 'connection')),
  }

  const tracker = createTracker({
    phase: () => phase,
    changed: () => wake?.(),
    settled: (entry) => {
      if (state === 'accepting' || entry.cut || !entry.res.writableFinished) return
      // A 503 queued behind a `Connection: close` response is never sent (Node drops it): not counted.
      if (entry.rejected) counts.rejected++
      else counts.completed++
    },
    listening: () => {
      announceReady()
      wake?.()
    },
  })
  const tasks = createTasks(() => wake?.())

  function stats (): Stats {
    return {
      state,
      ...tracker.counts(),
      tasks: tasks.size,
      timeLeft: state === 'accepting' ? null : Math.max(0, budgetEnd - Date.now()),
      hook: currentHook,
    }
  }

  function emit<E extends keyof GracefulEvents> (event: E, ...args: GracefulEvents[E]): void {
    emitter.emit(event, ...args)
  }

  function timer (ms: number, fn: () => void): void {
    const handle = setTimeout(() => {
      timers.delete(handle)
      fn()
    }, Math.max(0, ms))
    timers.add(handle)
  }

  /** Resolves true once `done()` holds, false at `until` (or when forced). Event-driven: `wake` re-checks. */
  function waitFor (done: () => boolean, until: number): Promise<boolean> {
    return new Promise((resolve) => {
      let finished = false
      const finish = (value: boolean) => {
        if (finished) return
        finished = true
        wake = null
        resolve(value)
      }
      wake = () => {
        if (forcedBy) finish(false)
        else if (done()) finish(true)
      }
      timer(until - Date.now(), () => finish(done()))
      wake()
    })
  }

  function sleep (ms: number): Promise<void> {
    return waitFor(() => false, Date.now() + ms).then(() => undefined)
  }

  const drained = () => !tracker.busy && tasks.size === 0

  async function run (trigger: Trigger): Promise<ShutdownSummary> {
    const started = Date.now()
    state = 'draining'
    phase = 'delay'
    budgetEnd = started + opts.timeout
    drainDeadline = budgetEnd - opts.releaseTimeout
    emit('draining', { ...stats(), trigger })
    log.info({ trigger, ...stats(), readinessDelay: opts.readinessDelay, timeout: opts.timeout }, 'graceful: draining, readiness is now not-ready')
    for (const entry of tracker.inFlight.values()) tracker.closeAfterResponse(entry)

    // Nothing listening, nothing a load balancer could still route here: no reason to wait.
    if (opts.readinessDelay > 0 && tracker.anyListening) await sleep(opts.readinessDelay)
    const drainStarted = Date.now()
    phase = 'drain'
    drainingController.abort(new GracefulError(ErrorCodes.DRAINING, 'draining started'))
    const listenersClosed = tracker.startDrain()
    const context: DrainContext = { signal: deadlineController.signal, deadline: drainDeadline }
    const notifyResults = startNotifyHooks(context)
    emit('drain', stats())
    log.debug({ ...stats() }, 'graceful: listeners closed, idle connections ended')

    let cut: CutRequest[] = []
    let holding: string[] = []
    const clean = await waitFor(drained, drainDeadline)
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
      await waitFor(() => tracker.inFlight.size === 0, Math.min(Date.now() + cutFlushMs, budgetEnd))
    }
    tracker.destroyAll()
    await Promise.race([listenersClosed, sleep(Math.min(cutFlushMs, budgetEnd - Date.now()))])
    const drainEnded = Date.now()

    state = 'closed'
    const hooks = [...notifyResults]
    if (forcedBy) {
      hooks.push(...releaseHooks.map((hook): HookResult => ({ name: hook.name, kind: 'release', status: 'skipped', durationMs: 0 })).reverse())
    } else {
      hooks.push(...await runReleaseHooks(releaseHooks, budgetEnd, {
        start: (name) => { currentHook = name },
        result: (result) => {
          currentHook = null
          if (result.status !== 'ok') reportHook(result)
        },
      }))
    }
    const ended = Date.now()
    for (const handle of timers) clearTimeout(handle)
    timers.clear()

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
    unregister()
    return result
  }

  function exitCodeFor (result: ShutdownSummary, trigger: Trigger): number {
    if (forcedBy) return forcedBy in constants.signals ? forcedExitCode(forcedBy as NodeJS.Signals) : ExitCodes.failed
    if (trigger === 'uncaughtException' || trigger === 'unhandledRejection') return ExitCodes.failed
    if (result.outcome === 'cut') return ExitCodes.cut
    if (result.outcome === 'failed') return ExitCodes.failed
    return ExitCodes.clean
  }

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

  function shutdown (trigger: Trigger = 'shutdown'): Promise<ShutdownSummary> {
    summary ??= run(trigger)
    return summary
  }

  function force (reason: string): void {
    if (forcedBy || state === 'closed') return
    forcedBy = reason
    log.warn({ reason, ...stats() }, 'graceful: forced, destroying every connection')
    deadlineController.abort(new GracefulError(ErrorCodes.DEADLINE, `forced by ${reason}`))
    tracker.destroyAll()
    wake?.()
  }

  const unregister = opts.signals.length > 0 || opts.handleFatalErrors || opts.pm2
    ? registerSignals({
      signals: opts.signals,
      handleFatalErrors: opts.handleFatalErrors,
      pm2: opts.pm2,
      exit: opts.exit,
      timeout: opts.timeout,
      isShuttingDown: () => state !== 'accepting',
      trigger: (reason, error) => {
        if (error !== undefined) log.error({ err: error }, `graceful: ${reason}, shutting down`)
        return shutdown(reason).then((result) => result.exitCode)
      },
      force,
    })
    : noop

  let announced = false
  /** PM2's `wait_ready`: one `'ready'` message, the first time readiness holds. */
  function announceReady (): void {
    if (!opts.pm2 || announced || !isReady() || typeof process.send !== 'function') return
    announced = true
    process.send('ready')
  }

  function isReady (): boolean {
    if (state !== 'accepting') return false
    if (markedReady) return true
    return opts.readyWhen === 'listening' && tracker.listening
  }

  function gate (req: AnyRequest, res: AnyResponse): GateDecision {
    if (state === 'accepting') return 'serve'
    const entry: Pick<InFlight, 'req' | 'res' | 'socket'> = tracker.inFlight.get(res) ?? {
      req, res, socket: req.httpVersionMajor === 2 ? null : (req as IncomingMessage).socket,
    }
    // During the readiness delay, and for health probes, serve, but on a closing connection.
    if (phase === 'delay' || matchHealth(opts.health, req.url) !== null) {
      tracker.closeAfterResponse(entry as InFlight)
      return 'serve'
    }
    const tracked = tracker.inFlight.get(res)
    if (tracked) tracked.rejected = true
    else counts.rejected++
    debug('503 %s %s', req.method, req.url)
    return 'reject'
  }

  const handle: Graceful = {
    get state () { return state },
    get ready () { return isReady() },
    get signal () { return drainingController.signal },
    get attached () { return tracker.attached },
    options: opts,
    rejection,
    rejectionFor: (req) => req.httpVersionMajor === 2 ? h2Rejection : rejection,
    attach: (server) => {
      const detach = tracker.attach(server)
      announceReady()
      return detach
    },
    shutdown,
    force: (reason = 'force') => {
      const result = shutdown(reason)
      force(reason)
      return result
    },
    gate,
    reject: (req, res) => writeRejection({ res, socket: req.httpVersionMajor === 2 ? null : (req as IncomingMessage).socket }, rejection),
    matchHealth: (url) => matchHealth(opts.health, url),
    liveness,
    readiness: () => readiness(opts.health, state !== 'accepting' ? 'draining' : isReady() ? 'ready' : 'starting'),
    handler: <Req extends AnyRequest, Res extends AnyResponse>(listener: (req: Req, res: Res) => void) => function gracefulHandler (req: Req, res: Res) {
      if (gate(req, res) === 'reject') return handle.reject(req, res)
      const endpoint = handle.matchHealth(req.url)
      if (endpoint !== null && (req.method === 'GET' || req.method === 'HEAD')) {
        void answerHealth(endpoint, req, res as ServerResponse)
        return
      }
      listener(req, res)
    },
    markReady: () => {
      markedReady = true
      announceReady()
    },
    onDraining: (hook, options = {}) => {
      if (typeof hook !== 'function') throw new TypeError('graceful: onDraining() takes a function')
      notifyHooks.push({ name: options.name ?? (hook.name || `notify#${notifyHooks.length + 1}`), hook })
    },
    onClose: (target, options = {}) => {
      releaseHooks.push(toReleaseHook(target, options, releaseHooks.length + 1))
    },
    track: (work, options = {}) => typeof work === 'function'
      ? tasks.run(options.name, work, { signal: deadlineController.signal, deadline: drainDeadline })
      : tasks.track(options.name, Promise.resolve(work)),
    stats,
    on: (event, listener) => { emitter.on(event, listener as never); return handle },
    once: (event, listener) => { emitter.once(event, listener as never); return handle },
    off: (event, listener) => { emitter.off(event, listener as never); return handle },
    [Symbol.asyncDispose]: async () => { await shutdown('dispose') },
  }

  async function answerHealth (endpoint: 'liveness' | 'readiness', req: AnyRequest, res: ServerResponse): Promise<void> {
    const answer = endpoint === 'liveness' ? liveness() : await handle.readiness()
    res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) })
    res.end(req.method === 'HEAD' ? undefined : answer.body)
  }

  return handle
}

function noop (): void {}
