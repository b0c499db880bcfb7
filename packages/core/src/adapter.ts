// @graceful/core/adapter: the kit for whoever writes the next adapter.
//
// A user imports `@graceful/core` and holds a `Graceful` handle: only what a
// user calls. An adapter imports this entry too, for what only adapters use:
//
// - `createAdapterGraceful(options, { extraKeys })` creates the instance and
//   returns its `AdapterView`: the user's handle (`view.graceful`, what you
//   decorate the app with) plus the gate, the draining 503 and the health
//   answers. `adapterView(graceful)` gives the same view of an instance the
//   user created (an integration that takes the user's `graceful`: gRPC).
// - Attach the framework's server (`view.graceful.attach(server)`). From the
//   trigger on, the core takes over its `'request'` listeners and answers
//   late requests with the 503 there, before the framework sees them
//   (connections/server-gate.ts): the adapter adds nothing per request while accepting.
// - Call `view.gate(req, res)` only where a request can reach your code
//   without passing that server gate: held in an earlier hook across the
//   trigger, or served by a server nobody attached (supertest). It costs one
//   comparison while accepting; on `'reject'` answer with `view.reject(req,
//   res)` (raw response) or `view.rejectionFor(req)` through the framework's
//   reply, never through its error path (a drain is not an error).
// - Health: `view.matchHealth(requestUrl(req))` on the URL the client sent,
//   then `view.answerHealth(endpoint, req, res)` on the raw response, or
//   `view.liveness()` / `view.readiness()` through the framework's reply.
// - Add option keys of your own through `extraKeys`, so an unknown key still
//   throws `invalidOption(...)`, the core's named error: validate yours the same way.
// - A framework's private field, when no public API gives the same: read it
//   in one `*-internals.ts` of your package (a table of field, reader and
//   fallback at its top, a test that fails the day the framework changes it,
//   one that forces the fallback), as support/node-internals.ts does for
//   Node's. `symbolNamed(object, 'fastify.hooks')` finds a described symbol.
// - The conformance suite (`test/conformance`, over `test/helpers/targets.ts`)
//   runs every shared behaviour against every adapter: add yours as a target.
//
// Express and Koa share `createMiddlewareAdapter` below; Fastify's plugin and
// NestJS's module have their own lifecycle and use the view directly.

import type { ListenOptions } from 'node:net'
import type { AdapterView } from './adapter-view.js'
import type { AttachableServer } from './types/handle.js'
import { ErrorCodes, invalidOption } from './support/errors.js'
import { createInstance } from './graceful.js'
import type { Graceful } from './types/handle.js'
import { claimed, takeForListen } from './process/reload/inherit.js'
import type { GracefulOptions } from './types/options.js'
import type { State } from './types/lifecycle.js'

export { adapterView, type AdapterView, type HealthEndpoint } from './adapter-view.js'
export { createInstance as createAdapterGraceful } from './graceful.js'
export type { AdapterConfig } from './types/handle.js'
export { requestUrl } from './answers/health.js'
export { invalidOption } from './support/errors.js'
export { resolveOptions } from './options/options.js'
export type { ResolvedOptions } from './types/options.js'
export { noop } from './support/noop.js'
export { fromNest } from './observing/logger.js'
export { symbolNamed } from './support/own-symbol.js'
export type { GateDecision, Rejection } from './types/lifecycle.js'

/** Options of a middleware adapter: every core option, plus `answerHealth`. */
export interface MiddlewareAdapterOptions extends GracefulOptions {
  /**
   * The middleware answers `GET`/`HEAD` on the `health` paths itself, before
   * any middleware mounted after it: zero configuration. Set `false` to mount
   * `g.health` (or `g.liveness` / `g.readiness`) yourself behind your own
   * logging, auth or CORS middleware. Keep `health.liveness`/`health.readiness`
   * naming those paths: while draining, the gate lets them through (with
   * `Connection: close`) instead of answering them with the draining 503.
   * @default true
   */
  answerHealth?: boolean
}

/** Anything with a `listen()` that returns a server: an Express or Koa app. */
export interface Listenable<S extends AttachableServer = AttachableServer> {
  listen: (...args: never[]) => S
}

/** Called once listening; Express 5 passes the error when listening fails. */
type ListeningListener = (error?: Error) => void

/** The arguments of `server.listen()`, every overload. */
export type ListenArgs =
  | [port?: number, hostname?: string, backlog?: number, listeningListener?: ListeningListener]
  | [port?: number, hostname?: string, listeningListener?: ListeningListener]
  | [port?: number, backlog?: number, listeningListener?: ListeningListener]
  | [port?: number, listeningListener?: ListeningListener]
  | [path: string, backlog?: number, listeningListener?: ListeningListener]
  | [path: string, listeningListener?: ListeningListener]
  | [options: ListenOptions, listeningListener?: ListeningListener]
  | [listeningListener?: ListeningListener]

/** The members every middleware adapter's `g` carries besides being a middleware. */
export interface AdapterHandle {
  /** The core handle: events (`g.graceful.on('draining', …)`), `stats()`, `ready`, `options`. */
  readonly graceful: Graceful
  /**
   * Track a server's connections and requests (the one `app.listen()`
   * returns). Without it a shutdown cannot drain, and readiness stays
   * not-ready. Call once per server. Returns `detach`.
   */
  attach: (server: AttachableServer) => () => void
  /**
   * `app.listen(...args)`, then {@link AdapterHandle.attach} the server it returns.
   * @example const server = g.listen(app, 3000, () => console.log('listening'))
   */
  listen: <S extends AttachableServer>(app: Listenable<S>, ...args: ListenArgs) => S
  /** Starts the shutdown (idempotent: every caller gets the same summary). Never exits the process. */
  shutdown: Graceful['shutdown']
  /** Maintenance mode: readiness 503 with the reason, everything else still served; no drain, no exit. */
  pause: Graceful['pause']
  /** Ends {@link AdapterHandle.pause}: readiness answers as before. */
  resume: Graceful['resume']
  /** With the `reload` option: hand the listening sockets to a new copy of the process, then drain. */
  reload: Graceful['reload']
  /** Release hook, run after the drain, last registered first, under its own timeout. */
  onClose: Graceful['onClose']
  /** Notify hook, run when the drain starts: close WebSockets (1001), end SSE streams, stop consumers. */
  onDraining: Graceful['onDraining']
  /** Work the drain waits for (Go's WaitGroup). A function receives a signal that aborts at the drain deadline. */
  track: Graceful['track']
  /** With `readyWhen: 'manual'`: report ready from now on. */
  markReady: Graceful['markReady']
  /** `accepting`, `draining` or `closed`. */
  readonly state: State
  /** Aborts when the drain starts: pass it to long-running work. */
  readonly signal: AbortSignal
}

export interface MiddlewareAdapter {
  view: AdapterView
  answerHealth: boolean
  /** Call per request: the first one warns once if no server is attached. Cheap afterwards. */
  checkAttached: () => void
  /** Gives `middleware` the {@link AdapterHandle} members, plus `extra` ones. */
  decorate: <M extends object, X extends object>(middleware: M, extra: X) => M & AdapterHandle & X
}

export interface MiddlewareAdapterHints {
  /** How the framework's tests reach an app without a server, for the not-attached warning. */
  supertest: string
  /** Called after `g.listen(app, …)` or `g.attach(server)` attached a server: `app` when `g.listen` was given it. */
  attached?: (server: AttachableServer, app?: unknown) => void
}

/**
 * The shared half of a middleware adapter. Validates the adapter's own option
 * before the core registers signal listeners: nothing starts half-configured.
 *
 * @example
 * const { view, checkAttached, decorate } = createMiddlewareAdapter(options, { supertest: 'request(app)' })
 */
export function createMiddlewareAdapter (options: MiddlewareAdapterOptions = {}, hints: MiddlewareAdapterHints): MiddlewareAdapter {
  const answerHealth = (options as MiddlewareAdapterOptions | null)?.answerHealth ?? true
  if (typeof answerHealth !== 'boolean') throw invalidOption('answerHealth', 'a boolean', answerHealth)
  const view = createInstance(options, { extraKeys: ['answerHealth'] })
  const core = view.graceful
  let checked = false

  return {
    view,
    answerHealth,
    checkAttached: () => {
      if (checked) return
      checked = true
      if (view.attached > 0) return
      const message = 'graceful: a request arrived but no server is attached, so a shutdown cannot drain ' +
        'connections and readiness stays not-ready. Start the server with g.listen(app, port), or call ' +
        `g.attach(server) with the server app.listen() returns. (Expected in tests that use supertest's ${hints.supertest}.)`
      core.options.logger?.warn({ code: ErrorCodes.NOT_ATTACHED }, message)
      process.emitWarning(message, { code: ErrorCodes.NOT_ATTACHED })
    },
    decorate: (middleware, extra) => {
      const handle: PropertyDescriptorMap = {
        graceful: { value: core, enumerable: true },
        attach: {
          value: function attach (server: AttachableServer) {
            const result = core.attach(server)
            hints.attached?.(server)
            return result
          },
          enumerable: true,
        },
        listen: {
          value: function listen (app: { listen: (...args: unknown[]) => AttachableServer }, ...args: unknown[]) {
            // app.listen() calls server.listen() synchronously; 'listening' comes a
            // tick later, so attaching now misses neither it nor a connection.
            // After a reload, the inherited socket for this position replaces the address.
            const inherited = takeForListen(args)
            const server = app.listen(...(inherited?.args ?? args))
            if (inherited) claimed(server)
            core.attach(server)
            hints.attached?.(server, app)
            return server
          },
          enumerable: true,
        },
        shutdown: { value: core.shutdown, enumerable: true },
        pause: { value: core.pause, enumerable: true },
        resume: { value: core.resume, enumerable: true },
        reload: { value: core.reload, enumerable: true },
        onClose: { value: core.onClose, enumerable: true },
        onDraining: { value: core.onDraining, enumerable: true },
        track: { value: core.track, enumerable: true },
        markReady: { value: core.markReady, enumerable: true },
        state: { get: () => core.state, enumerable: true },
        signal: { get: () => core.signal, enumerable: true },
      }
      for (const [key, value] of Object.entries(extra)) handle[key] = { value, enumerable: true }
      return Object.defineProperties(middleware, handle) as never
    },
  }
}
