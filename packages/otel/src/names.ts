/**
 * The instruments, by name: public API (dashboards and alerts use them).
 * Durations are in seconds, as OpenTelemetry's semantic conventions ask.
 */
export const metricNames = {
  /** Gauge, 1 for the current phase and 0 for the others (attribute `graceful.phase`). */
  phase: 'graceful.phase',
  /** Gauge: requests in flight. */
  inFlight: 'graceful.requests.in_flight',
  /** Gauge: open connections, by `graceful.connection.kind` (`socket`, `http2_session`, `upgraded`). */
  connections: 'graceful.connections.open',
  /** Gauge, seconds left of the shutdown budget; observed only while shutting down. */
  timeLeft: 'graceful.shutdown.time_left',
  /** Counter: requests answered with the draining 503. */
  rejected: 'graceful.requests.rejected',
  /** Counter: requests cut at the drain deadline (`graceful.cut.action`: `rejected` or `destroyed`). */
  cut: 'graceful.requests.cut',
  /** Counter: notify and release hooks that failed or timed out (`graceful.hook.name`, `.kind`, `.status`). */
  hookFailures: 'graceful.hook.failures',
  /** Histogram, seconds: trigger to the end of the release hooks (`graceful.outcome`). */
  shutdownDuration: 'graceful.shutdown.duration',
  /** Histogram, seconds: each phase of a shutdown (`graceful.phase`: `delay`, `drain`, `release`). */
  phaseDuration: 'graceful.phase.duration',
} as const

/**
 * What `graceful.phase` reports: `accepting` (or `paused`, maintenance mode),
 * then `delay` (readinessDelay: not ready, still serving), `drain` (listeners
 * closed, waiting for what is in flight), `release` (release hooks), `closed`.
 */
export const phases = ['accepting', 'paused', 'delay', 'drain', 'release', 'closed'] as const
export type Phase = typeof phases[number]
