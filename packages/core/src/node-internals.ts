import { IncomingMessage, ServerResponse } from 'node:http'
import { Server, Socket } from 'node:net'
import { noop } from './noop.js'

// What node:http already knows about a connection, read only when a shutdown
// starts, never per request. Both fields are private: each reader is
// feature-detected once, has a fallback, and `node-internals.test.ts` fails
// the day a Node release changes them.

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

/** True when {@link currentResponse} works on this Node: probed once, on a socket that never connects. */
export function canReadCurrentResponse (): boolean {
  probed ??= probeCurrentResponse()
  return probed
}
let probed: boolean | undefined

function probeCurrentResponse (): boolean {
  try {
    const socket = new Socket()
    const res = new ServerResponse(new IncomingMessage(socket))
    res.assignSocket(socket)
    const found = currentResponse(socket) === res
    res.detachSocket(socket)
    socket.destroy()
    return found && currentResponse(socket) === null
  } catch {
    return false
  }
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

/** libuv's loop time as timers see it, or `null` if timers no longer expose it. One probe per drain, not per socket. */
export function loopTime (): number | null {
  const probe = setTimeout(noop, 0) as unknown as NodeTimer
  clearTimeout(probe as unknown as NodeJS.Timeout)
  return typeof probe._idleStart === 'number' ? probe._idleStart : null
}

let cachedKey: symbol | undefined
function timerKey (socket: Socket): symbol | undefined {
  if (cachedKey !== undefined && cachedKey in socket) return cachedKey
  cachedKey = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'timeout')
  return cachedKey
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
