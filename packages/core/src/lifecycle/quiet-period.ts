import { invalidOption } from '../support/errors.js'
import { duration } from '../support/duration.js'
import type { DelayEnd, QuietPeriod, ResolvedQuietPeriod } from '../types/lifecycle.js'

// The adaptive readiness delay (Armeria's and Netty's quiet period): after the
// trigger, keep serving until nothing new has arrived for `quiet` ms, at least
// `min` and at most `max` after the trigger. Nothing is watched while
// accepting: the tracker reports arrivals only from the trigger on.

const quietKeys = new Set(['quiet', 'min', 'max'])

/**
 * Validates the object form of `readinessDelay`. `room` is what the drain
 * budget leaves for the delay (timeout − releaseTimeout); `max` must stay under it.
 */
export function resolveQuietPeriod (value: object, room: number): ResolvedQuietPeriod {
  for (const key of Object.keys(value)) {
    if (!quietKeys.has(key)) throw invalidOption(`readinessDelay.${key}`, 'one of quiet, min, max', key)
  }
  const input = value as QuietPeriod
  if (input.quiet === undefined) throw invalidOption('readinessDelay.quiet', 'a number of milliseconds (the silence that ends the delay)', undefined)
  const quiet = duration('readinessDelay.quiet', input.quiet, 0)
  if (quiet === 0) throw invalidOption('readinessDelay.quiet', 'a duration above 0 ms', 0)
  const min = duration('readinessDelay.min', input.min, 0)
  const max = duration('readinessDelay.max', input.max, Math.floor(room / 2))
  if (min > max) throw invalidOption('readinessDelay.min', `at most readinessDelay.max (${max} ms)`, min)
  if (quiet > max) throw invalidOption('readinessDelay.quiet', `at most readinessDelay.max (${max} ms): a longer silence could never end the delay`, quiet)
  if (max >= room) throw invalidOption('readinessDelay.max', `less than timeout - releaseTimeout (${room} ms), leaving time to drain`, max)
  return { quiet, min, max }
}

/**
 * Parses `GRACEFUL_READINESS_DELAY` in its quiet-period form,
 * `quiet=1000,min=500,max=10000` (any order, `min` and `max` optional);
 * null when the value is not of that form.
 */
export function parseQuietPeriod (raw: string): QuietPeriod | null {
  if (!raw.includes('=')) return null
  const out: Record<string, number> = {}
  for (const part of raw.split(',')) {
    const match = /^\s*(quiet|min|max)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part)
    if (!match || match[1]! in out) return null
    out[match[1]!] = Number(match[2])
  }
  return out as unknown as QuietPeriod
}

/** What the watch needs of the lifecycle: wake its waiter when silence may have come. */
export interface QuietWatch {
  /** A connection accepted during the delay; it counts from its acceptance unless its first request is a probe or it closes without one. */
  connection: (key: object, onClose: (listener: () => void) => void) => void
  /** A request arriving during the delay, on connection `key`; probes are not traffic. */
  request: (key: object | null, probe: boolean) => void
  /** True once the quiet period has been silent long enough (and `min` has passed). */
  quiet: () => boolean
  stop: () => void
}

/**
 * Watches arrivals from the trigger (`started`) on. One unref'd timer, moved
 * lazily: an arrival only records its time; when the timer fires it wakes the
 * waiter and, if silence has not come yet, arms itself for the new due time.
 * A pending connection that turns out to be a probe does not re-arm it: the
 * delay may then end up to `quiet` ms later than it could, never earlier.
 */
export function createQuietWatch (period: ResolvedQuietPeriod, started: number, wake: () => void): QuietWatch {
  let last = started
  // Connections accepted with no request yet: their acceptance time.
  const pending = new Map<object, number>()
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  function due (): number {
    let at = Math.max(started + period.min, last + period.quiet)
    for (const accepted of pending.values()) at = Math.max(at, accepted + period.quiet)
    return at
  }

  function arm (): void {
    if (stopped) return
    timer = setTimeout(fire, Math.max(0, due() - Date.now()))
    timer.unref()
  }

  function fire (): void {
    timer = undefined
    wake()
    if (!stopped && Date.now() < due()) arm()
  }

  arm()
  return {
    connection (key, onClose) {
      pending.set(key, Date.now())
      onClose(() => pending.delete(key))
    },
    request (key, probe) {
      if (key !== null) pending.delete(key)
      if (!probe) last = Date.now()
    },
    quiet: () => Date.now() >= due(),
    stop () {
      stopped = true
      clearTimeout(timer)
      pending.clear()
    },
  }
}

/** What the readiness delay needs of the lifecycle's waiter (waiter.ts). */
interface Waiter {
  sleep: (ms: number) => Promise<void>
  waitFor: (done: () => boolean, until: number) => Promise<boolean>
  wake: () => void
}

/**
 * The readiness delay of one lifecycle: a fixed sleep, or the quiet period
 * (only the option's own: a reload's delay stays fixed). Arrivals reported
 * outside an adaptive delay are ignored.
 */
export function createReadinessDelay (period: ResolvedQuietPeriod | null, waiter: Waiter) {
  let watch: QuietWatch | null = null
  return {
    async wait (fixedMs: number, started: number, adaptive: boolean): Promise<DelayEnd> {
      if (!adaptive || !period) {
        await waiter.sleep(fixedMs)
        return 'fixed'
      }
      watch = createQuietWatch(period, started, waiter.wake)
      const quiet = await waiter.waitFor(watch.quiet, started + period.max)
      watch.stop()
      watch = null
      return quiet ? 'quiet' : 'max'
    },
    arrived: (key: object, onClose: (listener: () => void) => void): void => { watch?.connection(key, onClose) },
    requested: (key: object | null, probe: boolean): void => { watch?.request(key, probe) },
  }
}
