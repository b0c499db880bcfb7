import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import { createTracker, type Tracker } from './connections.js'
import type { AdapterConfig, Graceful } from './handle.js'
import { liveness, matchHealth, readiness } from './health.js'
import { toReleaseHook, type ReleaseHook } from './hooks.js'
import { resolveOptions, type GracefulOptions, type ResolvedOptions } from './options.js'
import { closeAfterResponse } from './requests.js'
import { createRejection, writeRejection } from './rejection.js'
import { createSequence } from './sequence.js'
import { registerSignals } from './signals.js'
import { createTasks } from './tasks.js'
import type { AnyRequest, AnyResponse, GateDecision, GracefulEvents, NotifyHook } from './types.js'

export type { AdapterConfig, Graceful } from './handle.js'

const debug = debuglog('graceful')
const silent = { debug: noop, info: noop, warn: noop, error: noop }

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
  const notifyHooks: { name: string, hook: NotifyHook }[] = []
  const releaseHooks: ReleaseHook[] = []
  const { rejection, rejectionFor } = createRejection(opts.retryAfter)
  let markedReady = false
  let announced = false
  // The shutdown came from a signal and the process exits after it.
  let exiting = false

  const tasks = createTasks(() => sequence.changed())
  const sequence = createSequence({
    opts,
    log,
    emit: <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => { emitter.emit(event, ...args) },
    tracker: () => tracker,
    tasks,
    notifyHooks,
    releaseHooks,
    rejection,
    closed: () => unregister(),
    exiting: () => exiting,
  })
  const tracker: Tracker = createTracker({
    changed: sequence.changed,
    settled: (entry) => sequence.settled(entry.res.writableFinished, entry.rejected, entry.cut),
    listening: () => {
      announceReady()
      sequence.changed()
    },
    isProbe: (req) => (req.method === 'GET' || req.method === 'HEAD') && matchHealth(opts.health, req.url) !== null,
    rejectionFor,
  })

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
        if (error !== undefined) log.error({ err: error }, `graceful: ${reason}, shutting down`)
        return sequence.shutdown(reason).then((result) => result.exitCode)
      },
      force: sequence.force,
    })
    : noop

  function isReady (): boolean {
    if (sequence.state !== 'accepting') return false
    if (markedReady) return true
    return opts.readyWhen === 'listening' && tracker.listening
  }

  /** PM2's `wait_ready`: one `'ready'` message, the first time readiness holds. */
  function announceReady (): void {
    if (!opts.pm2 || announced || !isReady() || typeof process.send !== 'function') return
    announced = true
    process.send('ready')
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
    if (sequence.phase === 'delay' || ((req.method === 'GET' || req.method === 'HEAD') && matchHealth(opts.health, req.url) !== null)) {
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
      const detach = tracker.attach(server)
      announceReady()
      return detach
    },
    shutdown: sequence.shutdown,
    force: (reason = 'force') => {
      const result = sequence.shutdown(reason)
      sequence.force(reason)
      return result
    },
    gate,
    reject: (req, res) => writeRejection({ res, socket: socketOf(req) }, rejection),
    matchHealth: (url) => matchHealth(opts.health, url),
    liveness,
    readiness: () => readiness(opts.health, sequence.state !== 'accepting' ? 'draining' : isReady() ? 'ready' : 'starting'),
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
      ? tasks.run(options.name, work, sequence.taskContext())
      : tasks.track(options.name, Promise.resolve(work)),
    stats: sequence.stats,
    on: (event, listener) => { emitter.on(event, listener as never); return handle },
    once: (event, listener) => { emitter.once(event, listener as never); return handle },
    off: (event, listener) => { emitter.off(event, listener as never); return handle },
    [Symbol.asyncDispose]: async () => { await sequence.shutdown('dispose') },
  }
  return handle
}

function noop (): void {}
