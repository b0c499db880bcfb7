import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { invalidOption } from '../support/errors.js'
import type { DrainContext, Rejection } from '../types/lifecycle.js'
import { noop } from '../support/noop.js'
import { closeSpread, spreadWindow, validateSpread } from './spread.js'
import type { Spread } from '../types/options.js'
import type { WebSocketClient, WebSocketServerLike, WebSocketsOptions } from '../types/handle.js'

// The WebSocket helper: `graceful.websockets(wss)`. Typed structurally, so core
// imports nothing from `ws` and a user of another compatible server (or of no
// WebSocket at all) needs no `@types/ws`.

const debug = debuglog('graceful')
// RFC 6455 §7.4.1: "an endpoint is going away, such as a server going down".
const goingAway = 1001
// ws's WebSocket.CLOSED.
const closedState = 3

/** What the helper needs of the graceful instance: all of it public on the handle. */
export interface WebSocketsHost {
  /** Aborts when the drain starts. */
  signal: AbortSignal
  rejection: Rejection
  onDraining: (hook: (context: DrainContext) => unknown, options?: { name?: string }) => void
  /** The instance's `spread` option: the default of {@link WebSocketsOptions.spread}. */
  spread?: Spread
}

/**
 * At the drain start every client gets a close frame (1001 "going away") and the
 * drain waits for the close handshakes; upgrades arriving later are answered with
 * the draining 503; clients still open at the drain deadline are terminated.
 */
export function watchWebSockets (host: WebSocketsHost, wss: WebSocketServerLike, options: WebSocketsOptions = {}): void {
  const code = options.code ?? goingAway
  const reason = options.reason ?? 'going away'
  if (!Number.isInteger(code) || code < 1000 || code > 4999) throw invalidOption('websockets.code', 'a WebSocket close code (1000–4999)', code)
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) throw invalidOption('websockets.reason', 'a string of at most 123 bytes', reason)
  if (typeof wss?.handleUpgrade !== 'function' || typeof wss.on !== 'function') throw invalidOption('websockets', 'a ws WebSocketServer', wss)
  const spread: Spread = options.spread === undefined ? host.spread : validateSpread('websockets.spread', options.spread)

  // Clients we saw connect, for servers created with `clientTracking: false`.
  const own = new Set<WebSocketClient>()
  const clients = () => wss.clients ?? own
  const closeOne = (client: WebSocketClient) => {
    if (client.readyState < 2) client.close(code, reason)
  }

  wss.on('connection', (client) => {
    if (!wss.clients) {
      own.add(client)
      client.once('close', () => own.delete(client))
    }
    // A handshake that began before the drain and completed after it.
    if (host.signal.aborted) closeOne(client)
  })

  // ws's own 'upgrade' listener (server and port modes) calls this.handleUpgrade,
  // and noServer users call it themselves: one place refuses both.
  // https://github.com/websockets/ws/blob/8.18.3/lib/websocket-server.js#L127
  const handleUpgrade = wss.handleUpgrade
  wss.handleUpgrade = function gracefulHandleUpgrade (req, socket, head, callback) {
    if (host.signal.aborted) return refuseUpgrade(socket, host.rejection)
    handleUpgrade.call(this, req, socket, head, callback)
  }

  host.onDraining(async function closeWebSockets ({ signal, deadline }: DrainContext) {
    const open = [...clients()].filter((client) => client.readyState !== closedState)
    const window = spreadWindow(open.length, spread, deadline - Date.now())
    debug('websockets: closing %d client(s) with %d over %d ms', open.length, code, window)
    const closed = open.map((client) => new Promise<void>((resolve) => { client.once('close', resolve) }))
    void closeSpread(open, window, closeOne, signal)
    // The drain deadline: whoever has not completed the handshake is cut.
    const terminate = () => {
      for (const client of clients()) client.terminate()
    }
    if (signal.aborted) return terminate()
    signal.addEventListener('abort', terminate, { once: true })
    try {
      await Promise.all(closed)
    } finally {
      signal.removeEventListener('abort', terminate)
    }
  }, { name: 'websockets' })
}

/** The draining 503 on a raw upgrade socket: it never reached node:http's response machinery. */
function refuseUpgrade (socket: Duplex, rejection: Rejection): void {
  const headers = { ...rejection.headers, connection: 'close', 'content-length': String(Buffer.byteLength(rejection.body)) }
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  socket.on('error', noop)
  if (!socket.writable) return void socket.destroy()
  // node:http let go of an upgraded socket: nothing else will close it once the 503 is out.
  socket.end(`HTTP/1.1 503 Service Unavailable\r\n${head}\r\n${rejection.body}`, () => socket.destroy())
}
