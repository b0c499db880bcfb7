import { debuglog } from 'node:util'
import { probedEndpoint } from '../answers/health.js'
import { closeAfterResponse } from '../connections/requests.js'
import type { Tracker } from '../connections/tracker.js'
import type { ResolvedOptions } from '../types/options.js'
import type { AnyRequest, AnyResponse, GateDecision } from '../types/lifecycle.js'
import type { Lifecycle } from './lifecycle.js'

const debug = debuglog('graceful')

export interface ServeOr503Parts {
  health: ResolvedOptions['health']
  lifecycle: Pick<Lifecycle, 'phase' | 'rejectedUntracked'>
  tracker: Pick<Tracker, 'admitted' | 'find' | 'inGraceWindow'>
  /** A reload handed over: this process is healthy, what reaches it is served (reload.ts). */
  handedOver: () => boolean
}

export interface ServeOr503 {
  /**
   * The one answer to "is this request, arriving after the trigger, served (on
   * a closing connection) or answered with the draining 503?". Asked by the
   * gate at each attached server (connections/tracker.ts) and by {@link ServeOr503.gate}.
   */
  servedWhileDraining: (req: AnyRequest, url?: string) => boolean
  /** The adapters' gate (adapter-view.ts), which asks the same question. */
  gate: (req: AnyRequest, res: AnyResponse, url?: string) => GateDecision
}

export function createServeOr503 (parts: ServeOr503Parts): ServeOr503 {
  const { lifecycle, tracker } = parts
  /**
   * Served: during the readiness delay; after a reload handed over; health
   * probes; and a request that reached the server in the grace window, sent
   * before its client could know of the drain (a proxy such as nginx never
   * retries a 503, so a 503 there reaches the end user). Everything else that
   * arrives while draining gets the 503, and so does what has not started at
   * the deadline.
   */
  function servedWhileDraining (req: AnyRequest, url?: string): boolean {
    return lifecycle.phase === 'delay' || parts.handedOver() || tracker.inGraceWindow(req) || probedEndpoint(parts.health, req, url) !== null
  }

  /**
   * While accepting: one comparison. A request that reached an attached server
   * after the trigger was decided by the gate there (connections/server-gate.ts).
   * This one decides the others: requests that arrived before and reach the
   * adapter only now (held in an earlier hook), and requests no attached
   * server saw (supertest's own server, say).
   */
  function gate (req: AnyRequest, res: AnyResponse, url?: string): GateDecision {
    if (lifecycle.phase === 'accepting') return 'serve'
    if (tracker.admitted(req)) return 'serve'
    if (servedWhileDraining(req, url)) {
      closeAfterResponse(req, res)
      return 'serve'
    }
    const tracked = tracker.find(req, res)
    if (tracked) tracked.rejected = true
    else lifecycle.rejectedUntracked()
    debug('503 %s %s', req.method, req.url)
    return 'reject'
  }

  return { servedWhileDraining, gate }
}
