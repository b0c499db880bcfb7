import { invalidOption } from '../support/errors.js'
import type { Spread } from '../types/options.js'

// A spread goodbye: thousands of WebSockets or streams closed in one
// millisecond reconnect to the remaining instances in the same second.
// Phoenix drains its sockets in batches for that reason. Here, each
// connection gets its slot in a window, evenly; the window always ends well
// inside the drain budget, so the close handshakes still finish in time.

// Below this many connections, all are closed at once, as before.
const spreadFrom = 100
// The automatic window: this long per connection (2,000 → 1 s) ...
const autoMsPerConnection = 0.5
// ... at most this long.
const autoMaxMs = 5000
// Closes are batched per timer tick of this length.
const tickMs = 10

export function validateSpread (name: string, value: unknown): Spread {
  if (value === undefined || value === false) return value
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidOption(name, 'a window in milliseconds, or false to close everything at once', value)
  }
  return value
}

/**
 * The window over which `count` connections are closed: the option's, or
 * automatically 0.5 ms per connection (at most 5 s) from 100 connections on;
 * never more than half of what is left until the drain deadline.
 */
export function spreadWindow (count: number, spread: Spread, msLeft: number): number {
  if (spread === false || count < 2) return 0
  const wanted = spread ?? (count < spreadFrom ? 0 : Math.min(count * autoMsPerConnection, autoMaxMs))
  return Math.max(0, Math.min(wanted, msLeft / 2))
}

/**
 * Calls `close` for each item, item `i` at `i × window / n` from now, in
 * batches of one timer tick; stops scheduling when `signal` aborts (the
 * deadline: what is left is cut anyway). Resolves once every item was closed.
 */
export function closeSpread<T> (items: readonly T[], windowMs: number, close: (item: T) => void, signal?: AbortSignal): Promise<void> {
  if (windowMs <= 0 || items.length < 2) {
    for (const item of items) close(item)
    return Promise.resolve()
  }
  const started = Date.now()
  const step = windowMs / items.length
  let next = 0
  return new Promise<void>((resolve) => {
    const tick = () => {
      if (signal?.aborted) return resolve()
      const due = Math.min(items.length, Math.floor((Date.now() - started) / step) + 1)
      for (; next < due; next++) close(items[next]!)
      if (next >= items.length) return resolve()
      setTimeout(tick, Math.max(1, Math.min(tickMs, (next * step) - (Date.now() - started))))
    }
    tick()
  })
}
