import type { Server } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Graceful } from '@graceful/core'

type RequestListener = (this: unknown, req: IncomingMessage, res: ServerResponse) => void

const gated = Symbol.for('graceful.nestjs.gated')

/**
 * The drain gate, on the node server itself: the request listener the
 * platform installed (the Express app, Fastify's router) runs only for
 * requests the core lets through, so a draining 503 costs no body parsing, no
 * middleware, no guard and no error-filter log line, on either platform.
 * While accepting it costs one comparison.
 *
 * Call it before `graceful.attach(server)`: the core counts each request in a
 * listener it prepends, which must stay outside the gate.
 *
 * (When the core gates every attached server itself, this file goes away.)
 */
export function gateServer (server: Server, graceful: Graceful): void {
  const marked = server as Server & { [gated]?: true }
  if (marked[gated]) return
  marked[gated] = true
  for (const listener of server.listeners('request') as RequestListener[]) {
    server.off('request', listener)
    server.on('request', function gracefulGate (this: unknown, req: IncomingMessage, res: ServerResponse) {
      if (graceful.gate(req, res) === 'reject') return graceful.reject(req, res)
      listener.call(this, req, res)
    })
  }
}
