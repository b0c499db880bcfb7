import type { Server as NetServer } from 'node:net'
import { claimOnAttach } from './inherit.js'

// Listening sockets an integration serves itself (`@graceful/grpc` injects
// their connections into grpc-js): the core tracks none of their connections
// and never closes them at a drain, but a reload hands them over with the
// attached servers (in one set, so in one order), readiness waits for them,
// and an integration can refuse a reload it cannot hand everything over for.

export interface IntegrationListeners {
  /** Every listener listens (true when there is none). */
  readonly listening: boolean
  readonly size: number
  /** adapter-view.ts `attachListener`. */
  attach: (server: NetServer) => () => void
  /** adapter-view.ts `refuseReloadWhen`. */
  refuseReloadWhen: (check: () => string | null) => () => void
  /** The first reason given, or null: the reload may go ahead. */
  refusal: () => string | null
}

/** `handedOver`: the set a reload hands over (the attached servers'); `listening`: called at each listener's 'listening'. */
export function createIntegrationListeners (handedOver: Set<NetServer>, listening: () => void): IntegrationListeners {
  const listeners = new Set<NetServer>()
  const refusals = new Set<() => string | null>()
  return {
    get listening () { return [...listeners].every((server) => server.listening) },
    get size () { return listeners.size },
    attach (server) {
      // As attach() does: an inherited socket (reload) waiting for this position, the next listen() takes it.
      claimOnAttach(server)
      handedOver.add(server)
      listeners.add(server)
      server.on('listening', listening)
      return () => {
        handedOver.delete(server)
        listeners.delete(server)
        server.off('listening', listening)
      }
    },
    refuseReloadWhen (check) {
      refusals.add(check)
      return () => { refusals.delete(check) }
    },
    refusal () {
      for (const check of refusals) {
        const reason = check()
        if (reason !== null) return reason
      }
      return null
    },
  }
}
