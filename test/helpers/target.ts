import type { Graceful, GracefulOptions } from '@graceful/core'
import type { WebSocketServer } from 'ws'

/**
 * What one conformance scenario asks of an app. Every target serves the same
 * routes with the graceful plugin of its framework installed as a user would:
 *
 * - `GET /fast`   → 200 `fast`
 * - `GET /slow`   → waits for `slow()` to settle, then 200 `slow`
 * - `GET /stream` → sends headers and `start\n` at once, waits for `stream()`, then `end\n`
 * - `GET /events` → server-sent events registered with `graceful.stream()`: `data: hello`, then nothing
 *                   until the drain ends it
 * - `GET /boom`   → the route throws `new Error('boom')`; the framework's error handler
 *                   records it in `errors` and answers 500
 * - `GET /fail-later` → waits for `slow()` to settle, then fails with `new Error('late')` the
 *                   framework's own way (a rejected promise, or `next(error)` in Express 4)
 * - the adapter's liveness and readiness endpoints (default `/livez`, `/readyz`)
 */
export interface AppSpec {
  /** Graceful options, passed to the adapter unchanged (tests add `signals: false, exit: false` in-process). */
  options?: GracefulOptions
  slow?: () => Promise<void>
  stream?: () => Promise<void>
  /** Serve WebSockets on the app's server (`ws`, `graceful.websockets(wss)`): every client gets `hello`. */
  websockets?: boolean
}

export interface RunningApp {
  port: number
  /** The core handle behind the adapter (`app.graceful` for Fastify, …). */
  graceful: Graceful
  /** The WebSocket server, when the spec asked for one. */
  wss?: WebSocketServer
  /** Errors the framework's own error handler saw. */
  errors: unknown[]
  /** How a user of this framework stops the app: `app.close()` for Fastify, `graceful.shutdown()` elsewhere. */
  close: () => Promise<void>
  /** How many times the framework's own close lifecycle ran (Fastify `onClose` hooks; the server's `close` event elsewhere). */
  closeHookRuns: () => number
  /** Tear everything down, whatever state it is in. Safe to call twice. */
  [Symbol.asyncDispose]: () => Promise<void>
}

export interface Target {
  /** Shown in test names: `node:http`, `fastify`, `express@4`, `express@5`, `koa@2`, `koa@3`. */
  name: string
  start: (spec: AppSpec) => Promise<RunningApp>
}
