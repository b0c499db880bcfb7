import { EventEmitter } from 'node:events'
import { setAdapterView, type AdapterView, type HealthEndpoint } from './adapter-view.js'
import { writeAnswer } from './answers/answer.js'
import { createTracker, type Tracker } from './connections/tracker.js'
import type { AttachableServer, AdapterConfig, Graceful } from './types/handle.js'
import { liveness, matchHealth, probedEndpoint, readiness } from './answers/health.js'
import { createServeOr503 } from './lifecycle/serve-or-503.js'
import { claimOnAttach, inheritedSource, signalReady } from './process/reload/inherit.js'
import { toReleaseHook, type ReleaseHook } from './lifecycle/hooks.js'
import { createObservers } from './observing/observers.js'
import { resolveOptions } from './options/options.js'
import type { GracefulOptions, ResolvedOptions } from './types/options.js'
import { createRejection } from './answers/rejection.js'
import { createRoutingHint } from './lifecycle/skip-delay-on-laptop.js'
import { createReloader } from './process/reload/reload.js'
import { onTerminal } from './process/reload/scope.js'
import { createLifecycle } from './lifecycle/lifecycle.js'
import { createPause } from './lifecycle/pause.js'
import { publish } from './observing/channels.js'
import { startSideListeners } from './answers/health-port.js'
import { createIntegrationListeners } from './process/reload/listeners.js'
import { releaseServer } from './connections/release-server.js'
import { registerSignals } from './process/signals.js'
import { warnIfSignalsMayNotArrive } from './process/signal-reach.js'
import { createStreams } from './streams/stream.js'
import { createSystemdNotifier, processNotifySocket } from './process/systemd.js'
import { createTasks } from './lifecycle/tasks.js'
import type { AnyRequest, AnyResponse, GracefulEvents, NotifyHook, ReloadResult } from './types/lifecycle.js'
import { watchWebSockets } from './streams/websockets.js'
import { noop } from './support/noop.js'



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
export function createGraceful (options?: GracefulOptions): Graceful {
  return createInstance(options).graceful
}

/** An instance as an adapter sees it: the user's handle, and what only adapters use (adapter-view.ts). */
export function createInstance (options?: GracefulOptions, adapter: AdapterConfig = {}): AdapterView {
  return createFromResolved(resolveOptions(options, adapter.extraKeys))
}

function createFromResolved (opts: ResolvedOptions): AdapterView {
  const log = opts.logger
  const emitter = new EventEmitter()
  const observers = createObservers()
  const notifyHooks: { name: string, hook: NotifyHook }[] = []
  const releaseHooks: ReleaseHook[] = []
  const { rejection, rejectionFor } = createRejection(opts.retryAfter)
  const external = new Set<string>()
  let markedReady = false
  // A reload handed over: this process is healthy, a request on one of its
  // connections is served (with Connection: close), never answered 503.
  let handedOver = false
  let announced = false

  const routing = createRoutingHint(log)
  const tasks = createTasks(() => lifecycle.changed())
  // Every event goes out here: to the handle's listeners, then to its diagnostics_channel (channels.ts).
  // Each listener on its own: one that throws (or rejects) is reported once and the rest still run.
  const emit = <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]): void => {
    for (const listener of emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[]) {
      observers.call(`"${event}" listener`, () => listener.apply(emitter, args))
    }
    publish(event, handle, args[0])
  }
  const pause = createPause({ shuttingDown: () => lifecycle.state !== 'accepting', stats: () => lifecycle.stats(), emit })
  const lifecycle = createLifecycle({
    opts,
    log,
    emit,
    starting: (trigger, exitFollows) => {
      // systemd: STOPPING=1 only for the drain that ends the process, never a reload's; tracked,
      // so the process does not exit before systemd-notify delivered it (and what was queued before).
      if (exitFollows) {
        systemd.stopping()
        void tasks.track('systemd: STOPPING=1', systemd.flush())
      }
      // A stop during a reload: the new process, still booting, is stopped and reaped before this one may exit.
      if (reloader) void tasks.track('reload: stopping the booting new process', reloader.stopping(trigger))
    },
    pause,
    tracker: () => tracker,
    tasks,
    notifyHooks,
    releaseHooks,
    rejection,
    externalServing: () => external.size > 0,
    closed: () => {
      unregister()
      reloader?.close()
      for (const server of servers) releaseServer(server)
      // Health and control answer until here: the end of the shutdown, right before a signal's exit.
      side?.close()
    },
    couldRouteHere: routing.couldRouteHere,
  })
  const tracker: Tracker = createTracker({
    changed: lifecycle.changed,
    settled: lifecycle.settled,
    listening: () => {
      announceReady()
      lifecycle.changed()
    },
    servedWhileDraining: (req) => serveOr503.servedWhileDraining(req),
    rejectionFor,
    rejectedBodyLimit: opts.rejectedBodyLimit,
    arrived: lifecycle.arrived,
    requested: (key, req) => { lifecycle.requested(key, probedEndpoint(opts.health, req) !== null) },
  }, opts.connectionAge)
  const serveOr503 = createServeOr503({ health: opts.health, lifecycle, tracker, handedOver: () => handedOver })

  // Attached servers in attach order: a reload hands their sockets over in this order.
  const servers = new Set<AttachableServer>()
  // Listening sockets an integration serves itself (gRPC): handed over on a reload, never tracked (listeners.ts).
  const listeners = createIntegrationListeners(servers, () => {
    announceReady()
    lifecycle.changed()
  })
  // systemd: a process a reload started is announced by its old one.
  const notifySocket = processNotifySocket()
  const systemd = createSystemdNotifier({ log, socket: notifySocket, reloadChild: inheritedSource() === 'reload' })
  // Before the signals: it throws when another instance owns reload, and must leave nothing behind.
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
        emit(event, ...args)
      },
      // systemd: RELOADING=1; the new process speaks for the service once it is the main one.
      starting: systemd.reloading,
      childEnv: (): Record<string, string> => notifySocket === null ? {} : { NOTIFY_SOCKET: notifySocket },
      // gRPC: a listening socket an integration cannot hand over refuses the reload by name.
      refusal: listeners.refusal,
      state: () => lifecycle.state,
      servers: () => [...servers],
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
        if (error !== undefined) {
          const draining = lifecycle.state !== 'accepting'
          if (draining) lifecycle.fatal()
          log.error({ err: error, trigger: reason }, draining ? `graceful: ${reason} during the shutdown; the drain goes on, the exit code will be 1` : `graceful: ${reason}, shutting down`)
        }
        return lifecycle.shutdown(reason, { exit: opts.exit }).then((result) => result.exitCode)
      },
      force: lifecycle.force,
    })
    : noop

  if (opts.signals.length > 0) warnIfSignalsMayNotArrive(log)
  // Last: nothing after this throws, so a failed creation leaves no listener behind.
  const side = opts.healthListener || opts.control
    ? startSideListeners({ health: opts.healthListener, control: opts.control, readiness: readinessAnswer, pause: pause.pause, resume: pause.resume, stats: lifecycle.stats, log })
    : null

  function isReady (): boolean {
    if (lifecycle.state !== 'accepting') return false
    if (markedReady) return true
    return opts.readyWhen === 'listening' && allListening()
  }

  /** Every attached server and every integration's listener listens (and there is at least one). */
  function allListening (): boolean {
    if (tracker.attached === 0) return listeners.size > 0 && listeners.listening
    return tracker.listening && listeners.listening
  }

  /** PM2's `wait_ready`: one `'ready'` message, the first time readiness holds. */
  function announceReady (): void {
    // After a reload: the old process drains once this one is ready.
    signalReady(isReady(), opts.reload?.pidFile ?? null, log)
    if (isReady()) systemd.ready()
    if (!opts.pm2 || announced || !isReady() || typeof process.send !== 'function') return
    announced = true
    process.send('ready')
  }

  async function answerHealth (endpoint: HealthEndpoint, req: AnyRequest, res: AnyResponse): Promise<void> {
    writeAnswer(req, res, endpoint === 'liveness' ? liveness() : await readinessAnswer())
  }

  function readinessAnswer () {
    routing.probed()
    if (lifecycle.state !== 'accepting') return readiness(opts.health, 'draining')
    if (!isReady()) return readiness(opts.health, 'starting')
    return pause.current ? readiness(opts.health, 'paused', pause.current.reason) : readiness(opts.health, 'ready')
  }

  const reject = (req: AnyRequest, res: AnyResponse) => { writeAnswer(req, res, rejection) }

  const handle: Graceful = {
    get state () { return lifecycle.state },
    get ready () { return isReady() && pause.current === null },
    get signal () { return lifecycle.drainingSignal },
    options: opts,
    attach: (server) => {
      // An inherited socket (reload, systemd) waiting for this position: the next listen() takes it.
      claimOnAttach(server)
      const detach = tracker.attach(server)
      servers.add(server)
      announceReady()
      return () => {
        servers.delete(server)
        detach()
      }
    },
    shutdown: (trigger) => lifecycle.shutdown(trigger),
    pause: pause.pause,
    resume: pause.resume,
    reload: () => reloader?.reload() ?? Promise.resolve({ ok: false, reason: 'the reload option is off', pid: null, code: null, signal: null, durationMs: 0 }),
    force: (reason = 'force') => {
      const result = lifecycle.shutdown(reason)
      lifecycle.force(reason)
      return result
    },
    readiness: readinessAnswer,
    handler: <Req extends AnyRequest, Res extends AnyResponse>(listener: (req: Req, res: Res) => void) => function gracefulHandler (req: Req, res: Res) {
      if (serveOr503.gate(req, res) === 'reject') return reject(req, res)
      const endpoint = probedEndpoint(opts.health, req, req.url)
      if (endpoint !== null) {
        void answerHealth(endpoint, req, res)
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
    websockets: (wss, options) => watchWebSockets({ signal: lifecycle.drainingSignal, rejection, onDraining: handle.onDraining, spread: opts.spread }, wss, options),
    stream: createStreams(() => lifecycle.drainingSignal, rejection, opts.retryAfter, { spread: opts.spread, deadline: () => lifecycle.taskContext().deadline }),
    onClose: (target, options = {}) => {
      releaseHooks.push(toReleaseHook(target, options, releaseHooks.length + 1))
    },
    track: (work, options = {}) => typeof work === 'function'
      ? tasks.run(options.name, work, lifecycle.taskContext(), options.cut)
      : tasks.track(options.name, Promise.resolve(work), options.cut),
    stats: lifecycle.stats,
    on: (event, listener) => { emitter.on(event, listener as never); return handle },
    once: (event, listener) => { emitter.once(event, listener as never); return handle },
    off: (event, listener) => { emitter.off(event, listener as never); return handle },
    [Symbol.asyncDispose]: async () => { await lifecycle.shutdown('dispose') },
  }
  const view: AdapterView = {
    graceful: handle,
    get attached () { return tracker.attached },
    gate: serveOr503.gate,
    reject,
    rejection,
    rejectionFor,
    matchHealth: (url) => matchHealth(opts.health, url),
    get sideListeners () { return { health: side?.health ?? null, control: side?.control ?? null } },
    liveness,
    readiness: readinessAnswer,
    answerHealth,
    attachExternal: (name) => {
      const key = `${name}#${external.size + 1}`
      external.add(key)
      return () => { external.delete(key) }
    },
    attachListener: listeners.attach,
    refuseReloadWhen: listeners.refuseReloadWhen,
  }
  setAdapterView(handle, view)
  return view
}

