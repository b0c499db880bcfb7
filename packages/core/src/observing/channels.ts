import diagnostics from 'node:diagnostics_channel'
import type { Graceful } from '../types/handle.js'
import type { GracefulEvents } from '../types/lifecycle.js'

/**
 * The `diagnostics_channel` name of each event: public API, for APMs and
 * metrics that subscribe without holding the handle (every instance in the
 * process publishes on the same channels). Each message is the event's
 * payload with the instance added: `{ ...payload, graceful }`.
 *
 * @example
 * import diagnostics from 'node:diagnostics_channel'
 * diagnostics.subscribe('graceful:draining', ({ trigger, inFlight }) => log({ trigger, inFlight }))
 */
export const channels = {
  /** The first trigger: readiness turns 503 (`delay`, the readiness delay, starts). */
  draining: 'graceful:draining',
  /** The listeners closed, idle connections ended: the drain proper. */
  drain: 'graceful:drain',
  /** Everything finished before the deadline. */
  drained: 'graceful:drained',
  /** The drain deadline cut what was left: `holding`, `cut`. */
  timeout: 'graceful:timeout',
  /** A notify or release hook failed or timed out (a `HookResult`). */
  hookError: 'graceful:hook-error',
  /** All done: the `ShutdownSummary`. */
  closed: 'graceful:closed',
  /** A reload handed over to the new process. */
  reload: 'graceful:reload',
  /** A reload failed; this process keeps serving. */
  reloadFailed: 'graceful:reload-failed',
  /** `pause()`: maintenance mode on. */
  paused: 'graceful:paused',
  /** `resume()`: maintenance mode off. */
  resumed: 'graceful:resumed',
} as const satisfies Record<keyof GracefulEvents, `graceful:${string}`>

/** What a subscriber of `channels[E]` receives. */
export type ChannelMessage<E extends keyof GracefulEvents> = GracefulEvents[E][0] & { graceful: Graceful }

// diagnostics.channel() returns the one channel of a name for the whole
// process (weakly held): these objects are lookups, not state of ours.
const byEvent = Object.fromEntries(Object.entries(channels).map(([event, name]) => [event, diagnostics.channel(name)])) as
  Record<keyof GracefulEvents, diagnostics.Channel>

/**
 * Publishes one event, only when someone subscribes: without a subscriber it
 * costs one property read, and it never runs per request (events are
 * transitions). A subscriber that throws is Node's business: diagnostics_channel
 * rethrows it on the next tick, as for every channel.
 */
export function publish<E extends keyof GracefulEvents> (event: E, graceful: Graceful, payload: GracefulEvents[E][0]): void {
  const channel = byEvent[event]
  if (!channel.hasSubscribers) return
  channel.publish({ ...payload, graceful })
}
