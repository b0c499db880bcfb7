import { setAdapterView, type AdapterView, type HealthEndpoint } from './adapter-view.js'
import { writeAnswer } from './answers/answer.js'
import { liveness, matchHealth, probedEndpoint } from './answers/health.js'
import { startSideListeners } from './answers/health-port.js'
import { createRejection } from './answers/rejection.js'
import { releaseServer } from './connections/release-server.js'
import { createTracker } from './connections/tracker.js'
import { toReleaseHook, type ReleaseHook } from './lifecycle/hooks.js'
import { createLifecycle } from './lifecycle/lifecycle.js'
import { createPause } from './lifecycle/pause.js'
import { createReadiness } from './lifecycle/readiness.js'
import { createServeOr503 } from './lifecycle/serve-or-503.js'
import { createRoutingHint } from './lifecycle/skip-delay-on-laptop.js'
import { createTasks } from './lifecycle/tasks.js'
import { createEvents } from './observing/events.js'
import { resolveOptions } from './options/options.js'
import { createProcessSide } from './process/process-side.js'
import { claimOnAttach } from './process/reload/inherit.js'
import { createIntegrationListeners } from './process/reload/listeners.js'
import { createStreams } from './streams/stream.js'
import { watchWebSockets } from './streams/websockets.js'
import type { AttachableServer, AdapterConfig, Graceful } from './types/handle.js'
import type { AnyRequest, AnyResponse, NotifyHook } from './types/lifecycle.js'
import type { GracefulOptions, ResolvedOptions } from './types/options.js'

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

// Only wiring: each piece is named by the floor it lives on (see the map in index.ts).
function createFromResolved (opts: ResolvedOptions): AdapterView {
  const log = opts.logger
  const notifyHooks: { name: string, hook: NotifyHook }[] = []
  const releaseHooks: ReleaseHook[] = []
  const { rejection, rejectionFor } = createRejection(opts.retryAfter)
  // Servers the tracker does not see (gRPC) that are serving: a load balancer may still route here.
  const external = new Set<string>()
  // Attached servers in attach order: a reload hands their sockets over in this order.
  const servers = new Set<AttachableServer>()

  const { emitter, emit } = createEvents(() => handle)
  const routing = createRoutingHint(log)
  const tasks = createTasks(() => lifecycle.changed())
  const pause = createPause({ shuttingDown: () => lifecycle.state !== 'accepting', stats: () => lifecycle.stats(), emit })
  const lifecycle = createLifecycle({
    opts,
    log,
    emit,
    starting: (trigger, exitFollows) => { processSide.starting(trigger, exitFollows) },
    pause,
    tracker: () => tracker,
    tasks,
    notifyHooks,
    releaseHooks,
    rejection,
    externalServing: () => external.size > 0,
    closed: () => {
      processSide.close()
      for (const server of servers) releaseServer(server)
      // Health and control answer until here: the end of the shutdown, right before a signal's exit.
      side?.close()
    },
    couldRouteHere: routing.couldRouteHere,
  })
  const listening = () => {
    readiness.announce()
    lifecycle.changed()
  }
  const tracker = createTracker({
    changed: lifecycle.changed,
    settled: lifecycle.settled,
    listening,
    servedWhileDraining: (req) => serveOr503.servedWhileDraining(req),
    rejectionFor,
    rejectedBodyLimit: opts.rejectedBodyLimit,
    arrived: lifecycle.arrived,
    requested: (key, req) => { lifecycle.requested(key, probedEndpoint(opts.health, req) !== null) },
  }, opts.connectionAge)
  // Listening sockets an integration serves itself (gRPC): handed over on a reload, never tracked (listeners.ts).
  const listeners = createIntegrationListeners(servers, listening)
  const processSide = createProcessSide({
    opts, log, emit, lifecycle, servers: () => [...servers], refusal: listeners.refusal, track: (name, work) => { void tasks.track(name, work) },
  })
  const readiness = createReadiness({ opts, log, lifecycle, tracker, listeners, pause, routing, systemdReady: processSide.ready })
  const serveOr503 = createServeOr503({ health: opts.health, lifecycle, tracker, handedOver: () => processSide.handedOver })
  // Last: nothing after this throws, so a failed creation leaves no listener behind.
  const side = opts.healthListener || opts.control
    ? startSideListeners({ health: opts.healthListener, control: opts.control, readiness: readiness.answer, pause: pause.pause, resume: pause.resume, stats: lifecycle.stats, log })
    : null

  const reject = (req: AnyRequest, res: AnyResponse) => { writeAnswer(req, res, rejection) }
  const answerHealth = async (endpoint: HealthEndpoint, req: AnyRequest, res: AnyResponse) => {
    writeAnswer(req, res, endpoint === 'liveness' ? liveness() : await readiness.answer())
  }

  const handle: Graceful = {
    get state () { return lifecycle.state },
    get ready () { return readiness.ready },
    get signal () { return lifecycle.drainingSignal },
    options: opts,
    attach: (server) => {
      // An inherited socket (reload, systemd) waiting for this position: the next listen() takes it.
      claimOnAttach(server)
      const detach = tracker.attach(server)
      servers.add(server)
      readiness.announce()
      return () => {
        servers.delete(server)
        detach()
      }
    },
    shutdown: (trigger) => lifecycle.shutdown(trigger),
    pause: pause.pause,
    resume: pause.resume,
    reload: processSide.reload,
    force: (reason = 'force') => {
      const result = lifecycle.shutdown(reason)
      lifecycle.force(reason)
      return result
    },
    readiness: readiness.answer,
    handler: <Req extends AnyRequest, Res extends AnyResponse>(listener: (req: Req, res: Res) => void) => function gracefulHandler (req: Req, res: Res) {
      if (serveOr503.gate(req, res) === 'reject') return reject(req, res)
      const endpoint = probedEndpoint(opts.health, req, req.url)
      if (endpoint !== null) return void answerHealth(endpoint, req, res)
      listener(req, res)
    },
    markReady: readiness.markReady,
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
    readiness: readiness.answer,
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
