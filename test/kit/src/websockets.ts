import type { Server } from 'node:http'
import { WebSocketServer } from 'ws'
import type { Graceful } from '@graceful/core'

/** What a user writes to serve WebSockets beside any framework: one `ws` server on the app's HTTP server. */
export function serveWebSockets (graceful: Graceful, server: Server): WebSocketServer {
  const wss = new WebSocketServer({ server })
  wss.on('connection', (client) => client.send('hello'))
  graceful.websockets(wss)
  return wss
}
