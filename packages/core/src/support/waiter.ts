/**
 * Waits on a condition that events re-check (`wake()`), bounded by a deadline:
 * no polling. One wait at a time, which is all the shutdown sequence needs.
 * Its timers stay ref'd: a programmatic shutdown must not let the process
 * exit before its release hooks ran; they are all cleared by `clear()`.
 */
export function createWaiter (aborted: () => boolean) {
  const timers = new Set<NodeJS.Timeout>()
  let wake: (() => void) | null = null

  function timer (ms: number, fn: () => void): void {
    const handle = setTimeout(() => {
      timers.delete(handle)
      fn()
    }, Math.max(0, ms))
    timers.add(handle)
  }

  /** Resolves true once `done()` holds, false at `until` or when aborted. */
  function waitFor (done: () => boolean, until: number): Promise<boolean> {
    return new Promise((resolve) => {
      let finished = false
      const finish = (value: boolean) => {
        if (finished) return
        finished = true
        wake = null
        resolve(value)
      }
      wake = () => {
        if (aborted()) finish(false)
        else if (done()) finish(true)
      }
      // Node starts a timer from the loop's cached clock, so it can fire before
      // `until` by Date.now() (1 ms seen in CI): a deadline never ends early.
      const expire = (): void => {
        const left = until - Date.now()
        if (left > 0 && !finished) timer(left, expire)
        else finish(done())
      }
      timer(until - Date.now(), expire)
      wake()
    })
  }

  return {
    waitFor,
    sleep: (ms: number): Promise<void> => waitFor(() => false, Date.now() + ms).then(() => undefined),
    /** Something changed: re-check the current wait. */
    wake: (): void => wake?.(),
    clear: (): void => {
      for (const handle of timers) clearTimeout(handle)
      timers.clear()
    },
  }
}
