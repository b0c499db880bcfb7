import { once } from 'node:events'
import type { Server } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createGraceful, type Graceful, type GracefulOptions } from '@graceful/core'
import { afterTest } from './after-test.js'

/**
 * In-process defaults: never touch the test worker's signals or exit it, and keep the
 * test output readable (the default stderr logger is tested on its own, in children).
 */
export const inProcess = { signals: false, exit: false, logger: false } as const satisfies GracefulOptions

/** A core instance with the `inProcess` defaults under `options`, forced down when the current test finishes. */
export function inProcessGraceful (options: GracefulOptions = {}): Graceful {
  const graceful = createGraceful({ ...inProcess, ...options })
  afterTest(() => graceful.force('test teardown'))
  return graceful
}

/** A listening server as an `await using` resource: disposing drops its connections and closes it. */
export interface ListeningServer extends AsyncDisposable {
  server: Server
  port: number
}

/** Waits for `server` to listen (call `listen(0, '127.0.0.1')` first, or let `g.listen()` do it). */
export async function listening (server: Server): Promise<ListeningServer> {
  if (!server.listening) await once(server, 'listening')
  return {
    server,
    port: (server.address() as AddressInfo).port,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections()
      if (server.listening) await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * An h2c client session to `server`, once it listens on 127.0.0.1 (port 0); when the current
 * test finishes, the session is destroyed and the server closed. Errors are the caller's:
 * add an `error` listener where the test provokes them.
 */
export async function h2cSession (server: http2.Http2Server): Promise<http2.ClientHttp2Session> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterTest(() => server.close())
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  afterTest(() => session.destroy())
  return session
}
