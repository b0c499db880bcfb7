import type { AttachableServer } from '../types/handle.js'
import { connectionsCheckingTimer } from '../support/node-internals.js'

/**
 * Releases what node:http still holds for a server once its drain is over.
 *
 * node:http (and https) start an interval per server at `'listening'` that
 * checks request and headers timeouts. Only `http.Server.prototype.close`
 * clears it (`httpServerPreClose` in lib/_http_server.js, Node 20), and we
 * close listeners with `net.Server`'s close on purpose (http's would destroy
 * idle sockets being reused: see tracker.ts). The interval is unref'd, so
 * it does not keep the process alive, but as an active timer it keeps the
 * server — and through its request listener the whole graceful instance —
 * reachable forever: a leak for every programmatic shutdown.
 *
 * Calling http's close now would re-run net's close on a closed server (a
 * second `'close'` event), so clear the interval itself (a private field:
 * see node-internals.ts; test/faults/leak.test.ts fails the day it changes).
 */
export function releaseServer (server: AttachableServer): void {
  if ((server as { listening?: boolean }).listening === true) return
  const timer = connectionsCheckingTimer(server)
  if (timer !== undefined) clearInterval(timer)
}
