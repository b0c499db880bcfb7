import type { Server } from 'node:http'
import { listening } from '@graceful/test-kit'
import type { RunningApp } from './target.js'

/**
 * The RunningApp of a target that serves from a plain `http.Server` (node:http,
 * Express, Koa), once the target has started it listening on 127.0.0.1:0. The
 * close lifecycle is the server's `close` event; `close` is the user's shutdown.
 */
export async function serverApp (server: Server, app: Pick<RunningApp, 'graceful' | 'errors' | 'close' | 'wss'>): Promise<RunningApp> {
  let closeEvents = 0
  server.on('close', () => closeEvents++)
  const listener = await listening(server)

  return {
    ...app,
    port: listener.port,
    closeHookRuns: () => closeEvents,
    [Symbol.asyncDispose]: async () => {
      for (const client of app.wss?.clients ?? []) client.terminate()
      await listener[Symbol.asyncDispose]()
      await app.graceful.force('dispose')
    },
  }
}
