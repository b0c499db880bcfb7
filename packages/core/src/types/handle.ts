import type { ResolvedOptions } from './options.js'
import type {
  AnyRequest, AnyResponse, CutRequest, DrainContext, GracefulEvents, HealthResponse, HookOptions,
  NotifyHook, Releasable, ReloadResult, ShutdownSummary, State, Stats, Trigger,
} from './lifecycle.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Server as NetServer } from 'node:net'

/** The handle returned by {@link createGraceful}. */
export interface Graceful {
  /** `accepting`, `draining` or `closed`. */
  readonly state: State
  /** What readiness reports now (without the user's checks): false while starting, paused or draining. */
  readonly ready: boolean
  /** Aborts when the drain starts (after `readinessDelay`): Go's `ctx.Done()` for long-running work. */
  readonly signal: AbortSignal
  /** The options in force, defaults applied. */
  readonly options: Readonly<ResolvedOptions>
  /** Track the connections and requests of a server. Call once per server (app + metrics port). Returns `detach`. */
  attach: (server: AttachableServer) => () => void
  /**
   * With the `reload` option: start a new copy of this process on the same
   * listening sockets; once it is ready, drain this one (and exit, with `exit`).
   * Resolves at the hand-over, or with `ok: false` and the reason when the new
   * process failed and this one keeps serving. Never rejects.
   * @example const result = await graceful.reload(); if (!result.ok) console.error(result.reason)
   */
  reload: () => Promise<ReloadResult>
  /** Starts the shutdown. Idempotent: every caller gets the same promise and summary. Never exits the process. */
  shutdown: (trigger?: Trigger) => Promise<ShutdownSummary>
  /**
   * Maintenance mode: readiness answers 503 `{"status":"paused","reason":…}`
   * so load balancers take the instance out of rotation, while every request
   * (liveness included) is still served as usual: nothing drains, nothing
   * exits. Emits `paused`; `stats().paused` shows it. Calling it again only
   * replaces the reason. Returns false, and does nothing, once a shutdown started.
   * A shutdown during a pause skips the part of `readinessDelay` the pause already spent.
   * @example graceful.pause('reindexing') // … graceful.resume()
   */
  pause: (reason?: string) => boolean
  /** Ends a {@link Graceful.pause}: readiness answers as before. Emits `resumed`. Returns false when not paused (or shutting down). */
  resume: () => boolean
  /**
   * The readiness answer, `{ statusCode, headers, body }`, for an app that routes
   * its health paths itself (`handler()` answers them for you): 503 while starting
   * or draining, else your `health.checks` decide. Counts as a probe (see
   * "readinessDelay in local development").
   * @example if (req.url === '/readyz') { const r = await graceful.readiness(); res.writeHead(r.statusCode, r.headers).end(r.body) }
   */
  readiness: () => Promise<HealthResponse>
  /** A request listener (node:http, https, or the http2 compatibility API) that gates, answers health, then calls yours. */
  handler: <Req extends AnyRequest = IncomingMessage, Res extends AnyResponse = ServerResponse>(listener: (req: Req, res: Res) => void) => (req: Req, res: Res) => void
  /** With `readyWhen: 'manual'` (or before listening): report ready from now on. */
  markReady: () => void
  /** Notify hook, run when the drain starts: close WebSockets (1001), end SSE streams, stop consumers. The drain waits for it. */
  onDraining: (hook: NotifyHook, options?: Pick<HookOptions, 'name'>) => void
  /**
   * Drain a `ws` WebSocketServer: at the drain start every client gets close 1001
   * "going away" and the drain waits for the close handshakes; upgrades arriving
   * later get the draining 503; clients still open at the deadline are terminated.
   * @example graceful.websockets(new WebSocketServer({ server }))
   */
  websockets: (wss: WebSocketServerLike, options?: WebSocketsOptions) => void
  /**
   * A streaming response (SSE, a long download, tokens of a model) the drain ends
   * cleanly when it starts — SSE gets a last `retry:` so `EventSource` reconnects
   * elsewhere — instead of waiting for the deadline. Returns a signal that aborts
   * then (or when the client goes away): stop producing.
   * @example const signal = graceful.stream(res) // res.setHeader('content-type', 'text/event-stream')
   */
  stream: (target: StreamTarget, options?: StreamOptions) => AbortSignal
  /** Release hook, run after the drain, last registered first, under its own timeout. */
  onClose: (target: Releasable, options?: HookOptions) => void
  /**
   * Skip ahead, as a second signal does: destroy every connection now, skip the
   * remaining waits and the release hooks (a running one is abandoned, its signal
   * aborted), and resolve at once with outcome `forced`. Starts the shutdown if needed.
   */
  force: (reason?: string) => Promise<ShutdownSummary>
  /**
   * Work the drain waits for. A function receives a signal that aborts at the drain deadline.
   * `cut`: how this work is reported in the summary's `cut` if the deadline finds it unfinished
   * (integrations report their calls like requests: `@graceful/grpc`).
   */
  track: <T>(work: Promise<T> | ((context: DrainContext) => T | PromiseLike<T>), options?: { name?: string, cut?: (now: number) => CutRequest }) => Promise<T>
  /** Live counts. */
  stats: () => Stats
  on: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  once: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  off: <E extends keyof GracefulEvents>(event: E, listener: (...args: GracefulEvents[E]) => void) => Graceful
  /** `await using g = createGraceful()`: shuts down at the end of the scope. */
  [Symbol.asyncDispose]: () => Promise<void>
}

/** For adapters (`createAdapterGraceful`): the option keys they add, so validation still rejects unknown ones. */
export interface AdapterConfig {
  extraKeys?: readonly string[]
}

/** Any server a user can attach: node:http, node:https, node:http2 (plain or secure). */
export type AttachableServer = NetServer

/** A response (node:http, http2 compatibility), or the body stream a framework pipes into it (Koa, Fastify). */
export interface StreamTarget {
  end: (callback?: () => void) => unknown
  write: (chunk: string) => unknown
  readonly writableEnded: boolean
  readonly destroyed: boolean
  once: (event: 'close', listener: () => void) => unknown
}

export interface StreamOptions {
  /**
   * Treat the stream as server-sent events: at the drain start it gets a last
   * event carrying `retry:`, so the browser's `EventSource` reconnects (to
   * another instance) after that many milliseconds.
   * @default true when the response's `Content-Type` is `text/event-stream`
   */
  sse?: boolean
  /** The SSE reconnection delay in milliseconds. @default the instance's `retryAfter`, in ms */
  retry?: number
  /**
   * Your last words before the stream ends (a closing chunk, an SSE `event: shutdown`).
   * It runs first; the helper then writes `retry:` (SSE) and ends the stream, unless you ended it.
   */
  onDrain?: (target: StreamTarget) => void
}

/** One client, as `ws` exposes it. */
export interface WebSocketClient {
  readonly readyState: number
  close: (code?: number, reason?: string) => void
  terminate: () => void
  once: (event: 'close', listener: () => void) => unknown
}

/** What {@link Graceful.websockets} needs of a `ws` `WebSocketServer` (any mode: `port`, `server` or `noServer`). */
export interface WebSocketServerLike {
  /** Present unless the server was created with `clientTracking: false`. */
  clients?: Set<WebSocketClient>
  // Method syntax on purpose: ws's own signatures name its WebSocket class, checked bivariantly here.
  handleUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer, callback: (client: WebSocketClient, req: IncomingMessage) => void): void
  on (event: 'connection', listener: (client: WebSocketClient) => void): unknown
}

export interface WebSocketsOptions {
  /** The close code every client gets at the drain start. @default 1001 */
  code?: number
  /** The close reason (at most 123 bytes). @default 'going away' */
  reason?: string
  /**
   * Close the clients over this many ms, evenly, so they do not all reconnect
   * elsewhere in the same second; `false` closes all at once. Always ends
   * within half of what is left until the drain deadline.
   * @default the instance's `spread`: 0.5 ms per client from 100 clients on (2,000 → 1 s), at most 5 s; fewer are closed at once
   */
  spread?: number | false
}
