import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import { createTracker, type AttachableServer, type Tracker } from './connections.js'
import type { AdapterConfig, Graceful } from './handle.js'
import { liveness, matchHealth, readiness } from './health.js'
import { claimOnAttach, inheritedSource, signalReady } from './inherit.js'
import { toReleaseHook, type ReleaseHook } from './hooks.js'
import { createObservers } from './observers.js'
import { resolveOptions, type GracefulOptions, type ResolvedOptions } from './options.js'
import { closeAfterResponse } from './requests.js'
import { createRejection, writeRejection } from './rejection.js'
import { createRoutingHint } from './routing.js'
import { createReloader } from './reload.js'
import { createSequence } from './sequence.js'
import { releaseServer } from './release-server.js'
import { registerSignals } from './signals.js'
import { warnIfSignalsMayNotArrive } from './signal-reach.js'
import { createStreams } from './stream.js'
import { createTasks } from './tasks.js'
import type { AnyRequest, AnyResponse, GateDecision, GracefulEvents, NotifyHook } from './types.js'
import { watchWebSockets } from './websockets.js'

export type { AdapterConfig, Graceful } from './handle.js'

const debug = debuglog('graceful')

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
  // The shutdown came from a signal and the process exits after it.
  let exiting = false

  const routing = createRoutingHint(log)
  const tasks = createTasks(() => sequence.changed())
  const sequence = createSequence({
    opts,
    log,
    // Each listener on its own: one that throws (or rejects) is reported once and the rest still run.
    emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => {
      for (const listener of emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[]) {
        observers.call(`"${event}" listener`, () => listener.apply(emitter, args))
      }
    },
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
    },
    couldRouteHere: routing.couldRouteHere,
    exiting: () => exiting,
  })
  const tracker: Tracker = createTracker({
    changed: sequence.changed,
    settled: (entry) => sequence.settled(entry.res.writableFinished, entry.rejected, entry.cut),
    listening: () => {
      announceReady()
      sequence.changed()
    },
    servedWhileDraining: (req) => handedOver || isProbe(req),
    rejectionFor,
  })

  // Attached servers in attach order: a reload hands their sockets over in this order.
  const servers = new Set<AttachableServer>()
  inheritedSource()
  // Before the signals: it throws when another instance owns reload, and must leave nothing behind.
  const reloader = opts.reload
    ? createReloader({
      reload: opts.reload,
      log,
      emit: (event, ...args) => { emitter.emit(event, ...args) },
      state: () => sequence.state,
      servers: () => [...servers],
      drain: () => {
        handedOver = true
        return sequence.shutdown('reload', opts.reload?.readinessDelay)
      },
      exit: opts.exit,
      timeout: opts.timeout,
    })
    : null

  const unregister = opts.signals.length > 0 || opts.handleFatalErrors || opts.pm2
    ? registerSignals({
      signals: opts.signals,
      handleFatalErrors: opts.handleFatalErrors,
      pm2: opts.pm2,
      exit: opts.exit,
      timeout: opts.timeout,
      isShuttingDown: () => sequence.state !== 'accepting',
      trigger: (reason, error) => {
        exiting = opts.exit
        if (error !== undefined) {
          const draining = sequence.state !== 'accepting'
          if (draining) sequence.fatal()
          log.error({ err: error, trigger: reason }, draining ? `graceful: ${reason} during the shutdown; the drain goes on, the exit code will be 1` : `graceful: ${reason}, shutting down`)
        }
        return sequence.shutdown(reason).then((result) => result.exitCode)
      },
      force: sequence.force,
    })
    : noop

  if (opts.signals.length > 0) warnIfSignalsMayNotArrive(log)

  function isReady (): boolean {
    if (sequence.state !== 'accepting') return false
    if (markedReady) return true
    return opts.readyWhen === 'listening' && tracker.listening
  }

  /** PM2's `wait_ready`: one `'ready'` message, the first time readiness holds. */
  function announceReady (): void {
    // After a reload: the old process drains once this one is ready.
    signalReady(isReady(), opts.reload?.pidFile ?? null)
    if (!opts.pm2 || announced || !isReady() || typeof process.send !== 'function') return
    announced = true
    process.send('ready')
  }

  /** A liveness or readiness probe (GET or HEAD on a health path): served while draining. */
  function isProbe (req: AnyRequest): boolean {
    return (req.method === 'GET' || req.method === 'HEAD') && matchHealth(opts.health, req.url) !== null
  }

  function socketOf (req: AnyRequest) {
    return req.httpVersionMajor === 2 ? null : (req as IncomingMessage).socket
  }

  /**
   * The adapters' gate. While accepting: one comparison. A request that
   * reached an attached server after the trigger was decided by the gate there
   * (server-gate.ts). This one decides the others: requests that arrived
   * before and reach the adapter only now (held in an earlier hook), and
   * requests no attached server saw (supertest's own server, say).
   */
  function gate (req: AnyRequest, res: AnyResponse): GateDecision {
    if (sequence.state === 'accepting') return 'serve'
    if (tracker.admitted(req)) return 'serve'
    const tracked = tracker.find(req, res)
    // During the readiness delay, and for health probes, serve, but on a closing connection.
    if (sequence.phase === 'delay' || handedOver || isProbe(req)) {
      closeAfterResponse(tracked ?? { req, res, socket: socketOf(req) })
      return 'serve'
    }
    if (tracked) tracked.rejected = true
    else sequence.rejectedUntracked()
    debug('503 %s %s', req.method, req.url)
    return 'reject'
  }

  async function answerHealth (endpoint: 'liveness' | 'readiness', req: AnyRequest, res: ServerResponse): Promise<void> {
    const answer = endpoint === 'liveness' ? liveness() : await handle.readiness()
    res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) })
    res.end(req.method === 'HEAD' ? undefined : answer.body)
  }

  const handle: Graceful = {
    get state () { return sequence.state },
    get ready () { return isReady() },
    get signal () { return sequence.drainingSignal },
    get attached () { return tracker.attached },
    options: opts,
    rejection,
    rejectionFor,
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
    attachExternal: (name) => {
      const key = `${name}#${external.size + 1}`
      external.add(key)
      return () => { external.delete(key) }
    },
    shutdown: (trigger) => sequence.shutdown(trigger),
    reload: () => reloader?.reload() ?? Promise.resolve({ ok: false, reason: 'the reload option is off', pid: null, code: null, signal: null, durationMs: 0 }),
    force: (reason = 'force') => {
      const result = sequence.shutdown(reason)
      sequence.force(reason)
      return result
    },
    gate,
    reject: (req, res) => writeRejection({ res, socket: socketOf(req) }, rejection),
    matchHealth: (url) => matchHealth(opts.health, url),
    liveness,
    readiness: () => {
      routing.probed()
      return readiness(opts.health, sequence.state !== 'accepting' ? 'draining' : isReady() ? 'ready' : 'starting')
    },
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
    websockets: (wss, options) => watchWebSockets(handle, wss, options),
    stream: createStreams(sequence.drainingSignal, rejection, opts.retryAfter),
    onClose: (target, options = {}) => {
      releaseHooks.push(toReleaseHook(target, options, releaseHooks.length + 1))
    },
    track: (work, options = {}) => typeof work === 'function'
      ? tasks.run(options.name, work, sequence.taskContext(), options.cut)
      : tasks.track(options.name, Promise.resolve(work), options.cut),
    stats: sequence.stats,
    on: (event, listener) => { emitter.on(event, listener as never); return handle },
    once: (event, listener) => { emitter.once(event, listener as never); return handle },
    off: (event, listener) => { emitter.off(event, listener as never); return handle },
    [Symbol.asyncDispose]: async () => { await sequence.shutdown('dispose') },
  }
  return handle
}

function noop (): void {}
