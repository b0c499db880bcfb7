import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunningApp } from './target.js'

/**
 * The RunningApp of a target that serves from a plain `http.Server` (node:http,
 * Express, Koa), once the target has started it listening on 127.0.0.1:0. The
 * close lifecycle is the server's `close` event; `close` is the user's shutdown.
 */
export async function serverApp (server: Server, app: Pick<RunningApp, 'graceful' | 'errors' | 'close' | 'wss'>): Promise<RunningApp> {
  let closeEvents = 0
  server.on('close', () => closeEvents++)
  if (!server.listening) await once(server, 'listening')

  return {
    ...app,
    port: (server.address() as AddressInfo).port,
    closeHookRuns: () => closeEvents,
    [Symbol.asyncDispose]: async () => {
      for (const client of app.wss?.clients ?? []) client.terminate()
      server.closeAllConnections()
      if (server.listening) await new Promise((resolve) => server.close(resolve))
      await app.graceful.force('dispose')
    },
  }
}
