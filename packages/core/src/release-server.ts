import type { AttachableServer } from './connections.js'

/**
 * Releases what node:http still holds for a server once its drain is over.
 *
 * node:http (and https) start an interval per server at `'listening'` that
 * checks request and headers timeouts. Only `http.Server.prototype.close`
 * clears it (`httpServerPreClose` in lib/_http_server.js, Node 20), and we
 * close listeners with `net.Server`'s close on purpose (http's would destroy
 * idle sockets being reused: see connections.ts). The interval is unref'd, so
 * it does not keep the process alive, but as an active timer it keeps the
 * server — and through its request listener the whole graceful instance —
 * reachable forever: a leak for every programmatic shutdown.
 *
 * Calling http's close now would re-run net's close on a closed server (a
 * second `'close'` event), so clear the interval itself. The symbol is
 * private: found by description, feature-detected, and a test fails the day
 * Node renames it (test/faults/leak.test.ts).
 */
export function releaseServer (server: AttachableServer): void {
  if ((server as { listening?: boolean }).listening === true) return
  const slot = connectionsCheckingInterval(server)
  if (slot === undefined) return
  const timer = (server as unknown as Record<symbol, unknown>)[slot]
  if (timer !== undefined && timer !== null) clearInterval(timer as NodeJS.Timeout)
}

/** The private `kConnectionsCheckingInterval` symbol of a node:http server, if this Node has one. */
export function connectionsCheckingInterval (server: object): symbol | undefined {
  return Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === 'http.server.connectionsCheckingInterval')
}
