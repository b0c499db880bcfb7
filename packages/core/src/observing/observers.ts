import { debuglog } from 'node:util'

const debug = debuglog('graceful')

/**
 * Calls out to user code that only observes the drain (event listeners,
 * logger methods, `onCut`). Such code may throw or reject: that is the user's
 * bug, never a reason for the drain to stop, skip a hook or change its exit
 * code. Each failing observer is reported once, as a process warning (stderr
 * by default, `process.on('warning')` to capture it): not through the logger,
 * which may be the observer that failed.
 */
export interface Observers {
  /** Runs `fn`; a throw or a rejected promise it returns is reported once under `what`. */
  call: <A extends unknown[]>(what: string, fn: (...args: A) => unknown, ...args: A) => void
}

export const observerWarningCode = 'GRACEFUL_OBSERVER_FAILED'

export function createObservers (): Observers {
  const reported = new Set<string>()

  function report (what: string, error: unknown): void {
    debug('observer %s failed: %o', what, error)
    if (reported.has(what)) return
    reported.add(what)
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
    try {
      process.emitWarning(`graceful: ${what} threw; ignored, the drain goes on. ${detail}`, { code: observerWarningCode })
    } catch {
      // A throwing 'warning' listener is not ours to handle either.
    }
  }

  return {
    call (what, fn, ...args) {
      try {
        const result = fn(...args)
        if (isThenable(result)) result.then(undefined, (error: unknown) => report(what, error))
      } catch (error) {
        report(what, error)
      }
    },
  }
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
}
