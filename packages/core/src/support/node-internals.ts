import { ServerResponse, type IncomingMessage } from 'node:http'
import { Server, type Socket } from 'node:net'
import { noop } from './noop.js'
import { symbolNamed } from './own-symbol.js'

// Every private Node field graceful reads, and only here. No public API gives
// what these give; each is read off the hot path (at the trigger, the drain or
// a reload), feature-detected, and has a fallback:
//
//   field                                      read by            fallback when it is gone
//   socket._httpMessage                        http1.ts           requests tracked while accepting too
//   socket[Symbol(timeout)]._idleStart         http1.ts           every idle socket gets the reuse grace
//   server[Symbol(connectionsCheckingInterval)] release-server.ts the interval stays (an unref'd leak)
//   session[Symbol(socket)] (HTTP/2 kSocket)   http2-goaway.ts    the one-phase GOAWAY
//   server._handle.fd                          reload.ts          reload refuses, with the reason
//   response._header                           stream.ts          a writeHead() content-type is not seen
//   socket.parser.onIncoming                   connection-age.ts  an aged connection closes only when idle or unanswered
//   process._getActiveHandles()                reload/scope.ts    unattached listeners counted, not named
//
// Checked on Node 20.20, 22.23, 24.22 and 26.12 (.ci/node-matrix.sh).
// `node-internals.test.ts` fails on the Node that changes one of them;
// `node-internals-fallback.test.ts` forces every fallback on every Node.

interface NodeTimer { _idleStart?: unknown, _idleTimeout?: unknown }

/**
 * The response a node:http connection is writing now: `socket._httpMessage`,
 * set by `ServerResponse#assignSocket()` and cleared when it finishes
 * (https://github.com/nodejs/node/blob/v20.20.0/lib/_http_server.js, `resOnFinish`).
 * Pipelined requests queue behind it; node:http assigns the next one when it finishes.
 */
export function currentResponse (socket: Socket): ServerResponse | null {
  const message = (socket as Socket & { _httpMessage?: unknown })._httpMessage
  return message instanceof ServerResponse ? message : null
}

/**
 * True when {@link currentResponse} works on this Node. Told from node:http's
 * own code rather than by building a response: a `ServerResponse` built on
 * Node 22+ publishes `http.server.response.created`, and APM agents would see
 * a response without a request that never finishes. Whether the field really
 * is what it was is `node-internals.test.ts`'s job, on every Node of the matrix.
 */
export function canReadCurrentResponse (): boolean {
  const { assignSocket, detachSocket } = ServerResponse.prototype
  return typeof assignSocket === 'function' && typeof detachSocket === 'function' &&
    /\._httpMessage\s*=\s*this\b/.test(String(assignSocket)) && /\._httpMessage\s*=\s*null\b/.test(String(detachSocket))
}

/**
 * Milliseconds since the socket's last read or write, or `null` when Node does
 * not say. After each keep-alive response node:http arms the socket's idle
 * timer (`keepAliveTimeout`), and every read or write refreshes it; its
 * `_idleStart` is on the same clock (libuv's loop time) as any new timer's.
 * https://github.com/nodejs/node/blob/v20.20.0/lib/internal/timers.js
 */
export function msSinceActivity (socket: Socket, loopNow: number | null): number | null {
  if (loopNow === null) return null
  const key = timerKey(socket)
  const timer = key === undefined ? undefined : (socket as unknown as Record<symbol, NodeTimer | null | undefined>)[key]
  if (!timer || typeof timer._idleStart !== 'number' || typeof timer._idleTimeout !== 'number' || timer._idleTimeout <= 0) return null
  return loopNow - timer._idleStart
}

// The symbol is the same for every socket: found once, checked on each (a drain may walk 10,000).
let cachedKey: symbol | undefined
function timerKey (socket: Socket): symbol | undefined {
  if (cachedKey !== undefined && cachedKey in socket) return cachedKey
  cachedKey = symbolNamed(socket, 'timeout')
  return cachedKey
}

/** libuv's loop time as timers see it, or `null` if timers no longer expose it. One probe per drain, not per socket. */
export function loopTime (): number | null {
  const probe = setTimeout(noop, 0) as unknown as NodeTimer
  clearTimeout(probe as unknown as NodeJS.Timeout)
  return typeof probe._idleStart === 'number' ? probe._idleStart : null
}

/**
 * The interval node:http starts per server at `'listening'` to check request
 * and headers timeouts (`kConnectionsCheckingInterval`), or `undefined`.
 * https://github.com/nodejs/node/blob/v20.20.0/lib/_http_server.js (`setupConnectionsTracking`)
 */
export function connectionsCheckingTimer (server: object): NodeJS.Timeout | undefined {
  const key = symbolNamed(server, 'http.server.connectionsCheckingInterval')
  const timer = key === undefined ? undefined : (server as Record<symbol, unknown>)[key]
  return timer !== null && typeof timer === 'object' ? timer as NodeJS.Timeout : undefined
}

/**
 * The stream an HTTP/2 session writes its frames to: the session's `kSocket`
 * (`session.socket` is a proxy that refuses `write`), or `undefined`.
 * https://github.com/nodejs/node/blob/v20.20.0/lib/internal/http2/core.js
 */
export function sessionSocket (session: object): unknown {
  const key = symbolNamed(session, 'socket')
  return key === undefined ? undefined : (session as Record<symbol, unknown>)[key]
}

/**
 * The descriptor of a listening server's socket: `server._handle.fd` (libuv's,
 * Unix only); -1 when Node does not expose one.
 * https://github.com/nodejs/node/blob/v20.20.0/src/stream_wrap.cc (GetFD)
 */
export function listeningDescriptor (server: object): number {
  const handle = (server as { _handle?: { fd?: unknown } | null })._handle
  return typeof handle?.fd === 'number' ? handle.fd : -1
}

/**
 * A header passed straight to `writeHead()` is not in `getHeader()`: node:http
 * keeps it only in the head it wrote, `_header`; `undefined` when not found.
 * https://github.com/nodejs/node/blob/v20.19.0/lib/_http_outgoing.js#L119
 */
export function writtenHeader (response: object, name: string): string | undefined {
  const head = (response as { _header?: unknown })._header
  if (typeof head !== 'string') return undefined
  return new RegExp(`\r\n${name}:([^\r]*)\r\n`, 'i').exec(head)?.[1]
}

type OnIncoming = (this: unknown, req: IncomingMessage, keepAlive: boolean) => unknown

/**
 * Makes node:http answer the next request parsed on `socket` as if the client
 * had sent `Connection: close`: node:http itself then writes `Connection: close`
 * and ends the socket after that response, so the close never races a request.
 * It wraps this connection's `socket.parser.onIncoming(req, keepAlive)`, set per
 * connection by node:http (https://github.com/nodejs/node/blob/v20.20.0/lib/_http_server.js,
 * `connectionListenerInternal`; checked on Node 20, and `node-internals.test.ts`
 * fails on a Node that changes it), once, at the connection's age, never per request. False when the parser is not there to wrap (a future
 * Node, an upgraded socket): the caller falls back to watching the connection.
 */
export function closeAfterNextRequest (socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: { onIncoming?: unknown } | null }).parser
  const onIncoming = parser?.onIncoming
  if (!parser || typeof onIncoming !== 'function' || onIncoming.length !== 2) return false
  parser.onIncoming = function closingIncoming (this: unknown, req: IncomingMessage) {
    // One request only: the connection ends after it.
    parser.onIncoming = onIncoming
    return (onIncoming as OnIncoming).call(this, req, false)
  }
  return true
}

/**
 * Every net.Server of this process that listens and keeps the loop alive:
 * `process._getActiveHandles()` (private, present from Node 0.x through 26;
 * its server entries are the net.Server objects). Where it is gone, the
 * public `process.getActiveResourcesInfo()` still counts listening handles
 * (`TCPServerWrap`, `PipeServerWrap`), without saying whose: `servers` is
 * then null and only `count` is known.
 * https://github.com/nodejs/node/blob/v20.20.0/lib/internal/bootstrap/node.js (_getActiveHandles)
 */
export function listeningServers (getHandles: (() => unknown[]) | undefined | null = (process as { _getActiveHandles?: () => unknown[] })._getActiveHandles): { servers: Server[] | null, count: number } {
  if (typeof getHandles === 'function') {
    const servers = getHandles.call(process).filter((handle): handle is Server => handle instanceof Server && handle.listening)
    return { servers, count: servers.length }
  }
  const count = process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap' || name === 'PipeServerWrap').length
  return { servers: null, count }
}
