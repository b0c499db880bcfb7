import type { Server } from '@grpc/grpc-js'
import type { DrainContext, Graceful } from '@graceful/core'
import { adapterView, invalidOption, noop } from '@graceful/core/adapter'
import { ownBindings, selfBound } from './bind.js'
import { cutCall, wrapHandlers, type GrpcCall, type StreamingCall } from './calls.js'
import { createHealth, healthService, serviceOf } from './health.js'
import { validateOptions } from './options.js'
import type { GrpcAttachment, GrpcOptions } from './types.js'
import { missesConnectionAge } from './connection-age.js'

// At the deadline, the UNAVAILABLE statuses get this long to go out before the sessions are destroyed.
const statusFlushMs = 50

// Symbol.for: two loaded copies of this package agree that a server is taken.
const attached = Symbol.for('graceful.grpc.attached')

/**
 * Puts a `@grpc/grpc-js` server in the graceful lifecycle, alone or beside HTTP
 * servers, in the same budget: health `NOT_SERVING` at the trigger (calls still
 * served during `readinessDelay`), `tryShutdown()` at the drain start (in-flight
 * calls finish, new ones fail `UNAVAILABLE`), streaming calls told through
 * `onDrain`, `forceShutdown()` at the deadline with every cut call in the
 * summary's `cut`.
 *
 * @example
 * const graceful = createGraceful({ timeout: 10_000, readinessDelay: 5_000 })
 * const server = new grpc.Server()
 * server.addService(Greeter.service, handlers)
 * attach(graceful, server, { onDrain: (call) => call.call.end() })
 * server.bindAsync('0.0.0.0:50051', grpc.ServerCredentials.createInsecure(), () => {})
 */
export function attach (graceful: Graceful, server: Server, options: GrpcOptions = {}): GrpcAttachment {
  validateOptions(options)
  if (typeof server?.tryShutdown !== 'function' || typeof server.forceShutdown !== 'function' || typeof server.register !== 'function') {
    throw invalidOption('server', 'a @grpc/grpc-js Server', server)
  }
  // Throws the core's named error for anything createGraceful() did not return.
  const view = adapterView(graceful)
  if (graceful.state !== 'accepting') throw invalidOption('graceful', 'an instance that has not started shutting down', graceful.state)
  const marked = server as Server & { [attached]?: true }
  if (marked[attached]) throw invalidOption('server', 'a server not attached yet (attach() once per server)', server)
  marked[attached] = true

  if (missesConnectionAge(graceful, server)) {
    graceful.options.logger.warn({ option: 'maxConnectionAge' }, 'graceful: this gRPC server does not cap connection ages: create it with new grpc.Server({ ...connectionAgeOptions(graceful) })')
  }

  // Each call in flight, with what ends it UNAVAILABLE at the deadline.
  const open = new Map<GrpcCall, () => void>()
  let health: ReturnType<typeof createHealth> | null = null
  const pending: string[] = []
  const unwrap = wrapHandlers(server, (entry, done, endUnavailable) => {
    open.set(entry, endUnavailable)
    void graceful.track(done.finally(() => open.delete(entry)), { name: `grpc ${entry.path}`, cut: (now) => cutCall(entry, now) })
    // A call that arrives during the drain (on a session not yet closed) is told at once.
    if (graceful.signal.aborted) notify(entry)
  }, (path) => {
    const service = serviceOf(path)
    if (health) health.add(service)
    else pending.push(service)
  })
  if (options.health !== false) {
    health = createHealth(server, options.health, graceful.stats().paused ? 'NOT_SERVING' : 'SERVING')
    for (const service of pending) health.add(service)
  }
  const detachExternal = view.attachExternal('grpc')
  // With reload on, graceful owns the listening sockets (bind.ts), so a reload hands them over.
  const binding = graceful.options.reload ? ownBindings(server, view, graceful.options.logger) : null
  const stopRefusing = binding ? view.refuseReloadWhen(() => reloadRefusal(server)) : noop
  // Said now, not only when a reload is refused: the fix is in the code (attach() first).
  const refusal = binding ? reloadRefusal(server) : null
  if (refusal !== null) graceful.options.logger.warn({ reason: refusal }, 'graceful: reload is on, but a reload will be refused')
  let detached = false

  // At the trigger, and in maintenance mode (`graceful.pause()`, calls still served):
  // gRPC's readiness follows HTTP's. `resumed` never comes once a shutdown started.
  const notServing = () => { if (!detached) health?.setAll('NOT_SERVING') }
  const serving = () => { if (!detached) health?.setAll('SERVING') }
  graceful.once('draining', notServing).on('paused', notServing).on('resumed', serving)

  function notify (entry: GrpcCall): void {
    if (entry.path === `/${healthService}/Watch`) {
      if ('end' in entry.call) entry.call.end()
      return
    }
    if (entry.type !== 'serverStream' && entry.type !== 'bidi') return
    try {
      options.onDrain?.(entry as StreamingCall)
    } catch (error) {
      // The user's hook: reported, never a reason for the drain to stop.
      graceful.options.logger?.error({ err: error, path: entry.path }, 'graceful: grpc onDrain threw')
    }
  }

  graceful.onDraining(async function grpcServer ({ signal }: DrainContext) {
    if (detached) return
    for (const entry of open.keys()) notify(entry)
    // Graceful's own listeners first (a reload closed them already): no new connection from here on.
    for (const listener of binding?.listeners ?? []) if (listener.listening) listener.close()
    await new Promise<void>((resolve) => {
      const force = () => {
        // The deadline: every call still open is cut (and reported by its
        // task) with the status UNAVAILABLE; the sessions are destroyed a
        // moment later, once those statuses are on the wire.
        const cut = [...open.values()]
        for (const endUnavailable of cut) endUnavailable()
        const flushed = setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, cut.length > 0 ? statusFlushMs : 0)
        flushed.unref()
      }
      if (signal.aborted) return force()
      signal.addEventListener('abort', force, { once: true })
      server.tryShutdown(() => {
        signal.removeEventListener('abort', force)
        resolve()
      })
    })
  }, { name: 'grpc' })

  return {
    get health () { return health?.implementation ?? null },
    get calls () { return [...open.keys()] },
    detach () {
      if (detached) return
      detached = true
      delete marked[attached]
      unwrap()
      detachExternal()
      binding?.restore()
      stopRefusing()
      graceful.off('draining', notServing).off('paused', notServing).off('resumed', serving)
    },
  }
}

/** Why a reload cannot hand this server's sockets over, or null. */
function reloadRefusal (server: Server): string | null {
  if (typeof (server as { createConnectionInjector?: unknown }).createConnectionInjector !== 'function') {
    return 'a gRPC server is attached and this @grpc/grpc-js has no createConnectionInjector (added in 1.11): graceful cannot own its listening socket, so a reload could not hand it over; upgrade @grpc/grpc-js'
  }
  const bound = selfBound(server)
  if (bound !== null) return `the gRPC server listens on ${bound} through grpc-js's own bindAsync (called before attach()?): graceful cannot hand that socket over; call attach() before bindAsync()`
  return nodeRefusal(process.versions.node)
}

/**
 * On Node 26 the hand-over loses calls: the old process's sessions, injected
 * into grpc-js, end the calls still in flight with UNAVAILABLE "Connection
 * dropped" (3 of ~1,300 calls per reload in test/e2e/grpc-reload.test.ts; none
 * on Node 20, 22 and 24). Until that is understood, refused by name.
 */
export function nodeRefusal (version: string): string | null {
  if (Number(version.split('.')[0]) < 26) return null
  return `a gRPC server is attached and this is Node.js ${version}, where handing gRPC connections over drops the calls in flight: the reload is refused (use a rolling restart, or Node.js 20-24)`
}
