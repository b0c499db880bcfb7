import type { GracefulEvents, PauseInfo, Stats } from '../types/lifecycle.js'

/**
 * Maintenance mode: readiness 503 while everything else keeps serving. No
 * drain, no exit, no Connection: close: the load balancer stops sending new
 * work, what is already here carries on, and `resume()` puts the instance back.
 * Envoy's `/healthcheck/fail` + `/healthcheck/ok`, actix's `pause()`/`resume()`.
 */
export interface Pause {
  /** Paused now, and since when; `null` when not. */
  readonly current: PauseInfo | null
  /** True when the instance is (now) paused; false once a shutdown started (nothing to pause then). */
  pause: (reason?: string) => boolean
  /** True when it was paused and no longer is; false when there was nothing to resume. */
  resume: () => boolean
  /**
   * How much of `readinessDelay` a shutdown may skip: the time readiness
   * has already answered 503. The delay exists so load balancers notice the
   * instance went not-ready; a pause older than the delay gave them that time.
   */
  outOfRotationMs: (now: number) => number
}

export interface PauseParts {
  /** The shutdown has started: pausing and resuming no longer mean anything. */
  shuttingDown: () => boolean
  stats: () => Stats
  emit: <E extends 'paused' | 'resumed'>(event: E, ...args: GracefulEvents[E]) => void
}

export function createPause (parts: PauseParts): Pause {
  let current: PauseInfo | null = null

  return {
    get current () { return current },
    pause (reason) {
      if (reason !== undefined && typeof reason !== 'string') throw new TypeError('graceful: pause(reason) takes a string')
      if (parts.shuttingDown()) return false
      if (current) {
        // Paused already: a newer reason replaces the old one, the pause keeps its start.
        current = { reason: reason ?? current.reason, since: current.since }
        return true
      }
      current = { reason: reason ?? null, since: Date.now() }
      parts.emit('paused', { ...parts.stats(), reason: current.reason })
      return true
    },
    resume () {
      if (!current || parts.shuttingDown()) return false
      const { reason, since } = current
      current = null
      parts.emit('resumed', { ...parts.stats(), reason, pausedMs: Date.now() - since })
      return true
    },
    outOfRotationMs: (now) => current ? Math.max(0, now - current.since) : 0,
  }
}
