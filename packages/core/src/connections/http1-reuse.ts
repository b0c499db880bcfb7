import type { Socket } from 'node:net'
import { loopTime, msSinceActivity } from '../support/node-internals.js'

// A connection whose last activity was this recent may be reusing itself right
// now: its next request is likely on the wire, sent before the client could
// know of the drain. It gets this long to arrive (and be served, with
// `Connection: close`) before the FIN, instead of meeting a closed socket: the
// keep-alive race every HTTP/1.1 server has. A connection just accepted, whose
// request head has not arrived, gets the same grace.
export const reuseGraceMs = 50

/** The idle connections at the drain start, sorted by {@link sortIdle}. */
export interface DrainPlan {
  now: number | null
  /** In their reuse window (or not known to be past it): they get the grace. */
  recent: Socket[]
  /** Idle long enough to end now. */
  idle: Socket[]
}

export function newDrainPlan (): DrainPlan {
  return { now: loopTime(), recent: [], idle: [] }
}

/** An idle connection at the drain start: in its reuse window (or not known to be past it), or idle long enough to end. */
export function sortIdle (socket: Socket, plan: DrainPlan): void {
  const since = msSinceActivity(socket, plan.now)
  // Unknown: never answered (just accepted, or a slow head), or no keep-alive timer to read.
  if (since === null || since < reuseGraceMs) plan.recent.push(socket)
  else plan.idle.push(socket)
}

/**
 * The connections in their grace window. One timer for all of them: when it
 * fires, `over` is called for each (http1.ts ends those still idle), then `changed`.
 */
export function createReuseWindow (over: (socket: Socket) => void, changed: () => void) {
  const reusing = new Set<Socket>()
  let timer: NodeJS.Timeout | undefined

  function windowOver (): void {
    timer = undefined
    for (const socket of reusing) over(socket)
    reusing.clear()
    changed()
  }

  return {
    grace (socket: Socket): void {
      reusing.add(socket)
      timer ??= setTimeout(windowOver, reuseGraceMs)
    },
    has: (socket: Socket) => reusing.has(socket),
    /** The connection left its window: its request arrived, it ended, or it is no longer HTTP/1's. */
    leave: (socket: Socket): void => { reusing.delete(socket) },
    /** The end: no window is waited for any more. */
    clear (): void {
      clearTimeout(timer)
      timer = undefined
      reusing.clear()
    },
    get size () { return reusing.size },
  }
}
