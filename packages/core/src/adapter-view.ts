import type { Server } from 'node:http'
import type { Server as NetServer } from 'node:net'
import { invalidOption } from './support/errors.js'
import type { Graceful } from './types/handle.js'
import type { AnyRequest, AnyResponse, GateDecision, HealthResponse, Rejection } from './types/lifecycle.js'

/** A health endpoint. */
export type HealthEndpoint = 'liveness' | 'readiness'

/**
 * What an adapter needs of an instance and a user never calls: the gate, the
 * draining 503, the health answers. `@graceful/core/adapter` only; the user's
 * handle is {@link AdapterView.graceful}.
 */
export interface AdapterView {
  /** The user's handle: what `app.graceful` / `g.graceful` / `@InjectGraceful()` give. */
  readonly graceful: Graceful
  /** How many servers are attached: adapters warn when a request arrives and this is 0. */
  readonly attached: number
  /**
   * Serve this request, or answer it with the draining 503. While accepting:
   * one comparison. While draining it also marks the response `Connection: close`
   * (HTTP/1) or ends the session with GOAWAY after it (HTTP/2). `url`: the
   * URL as the client sent it, when the framework rewrote `req.url` and does not
   * keep it in `req.originalUrl` (Koa's `ctx.originalUrl`); see {@link requestUrl}.
   */
  gate: (req: AnyRequest, res: AnyResponse, url?: string) => GateDecision
  /** Writes the draining 503 on the raw response. */
  reject: (req: AnyRequest, res: AnyResponse) => void
  /** The draining 503 (status, headers, JSON body), for adapters that answer through their framework. */
  readonly rejection: Rejection
  /** {@link AdapterView.rejection} fit for this request: without `Connection` on HTTP/2, which forbids it. */
  rejectionFor: (req: AnyRequest) => Rejection
  /** The health endpoint a URL names, if any (query string ignored). Pass {@link requestUrl}`(req)`. */
  matchHealth: (url: string | undefined) => HealthEndpoint | null
  /** The listeners of `health.port` and `control` (the same server when they share a port), for tests and integrations that need their address. */
  readonly sideListeners: { health: Server | null, control: Server | null }
  /** The liveness answer: 200 `{"status":"ok"}`, also while draining. */
  liveness: () => HealthResponse
  /** The readiness answer (runs the user's checks): the same function as `graceful.readiness`. */
  readiness: () => Promise<HealthResponse>
  /** Answers a health endpoint on the raw response (HEAD without a body). Never rejects: a failing check is a 503. */
  answerHealth: (endpoint: HealthEndpoint, req: AnyRequest, res: AnyResponse) => Promise<void>
  /**
   * For integrations of servers the core does not track (`@graceful/grpc`): one
   * is serving, so `readinessDelay` applies even with no HTTP server attached.
   * Returns `detach`.
   */
  attachExternal: (name: string) => () => void
  /**
   * A listening socket whose connections the integration serves itself
   * (`@graceful/grpc` injects them into grpc-js): the core tracks none of its
   * connections and never closes it at a drain (the integration does), but
   * a reload hands it over like an attached server's, in the same order, and
   * in the new process its next `listen()` takes the inherited socket. The
   * instance is ready ('listening') only once it listens too. Call before
   * `listen()`. Returns `detach`.
   */
  attachListener: (server: NetServer) => () => void
  /**
   * A reason a reload cannot hand everything over right now (a listening
   * socket the integration cannot give away), or `null`. Asked before a
   * reload starts a new process; a reason refuses the reload, named in its
   * result. Returns `detach`.
   */
  refuseReloadWhen: (check: () => string | null) => () => void
}

// Shared through the global symbol registry: an integration loaded with its
// own copy of the core (ESM beside CommonJS) still finds the view.
const viewKey = Symbol.for('graceful.adapter-view.v1')

/** Gives the handle its view (graceful.ts, at creation). Not enumerable: the handle's API stays the user's. */
export function setAdapterView (graceful: Graceful, view: AdapterView): void {
  Object.defineProperty(graceful, viewKey, { value: view })
}

/**
 * The adapter's view of an instance a user created (`@graceful/grpc` takes
 * the user's `graceful`). Throws a `TypeError` naming `graceful` for anything
 * `createGraceful()` did not return.
 */
export function adapterView (graceful: Graceful): AdapterView {
  const view = (graceful as Graceful & { [viewKey]?: AdapterView } | null)?.[viewKey]
  if (view === undefined) throw invalidOption('graceful', 'an instance returned by createGraceful()', graceful)
  return view
}
