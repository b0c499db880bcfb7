/** How a wait under {@link withTimeout} ended. */
export type Timed<T> = { outcome: 'done', value: T } | { outcome: 'timeout' } | { outcome: 'aborted' }

/**
 * Waits for `work` at most `ms` milliseconds, and no longer than `abort` stays
 * unaborted: the one timeout of release hooks and readiness checks. A
 * rejection of `work` before then rejects; one after it is handled (never an
 * unhandled rejection). The timer and the abort listener are always removed.
 */
export async function withTimeout<T> (work: PromiseLike<T>, ms: number, abort?: AbortSignal): Promise<Timed<T>> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const cut = new Promise<Timed<T>>((resolve) => {
    timer = setTimeout(resolve, ms, { outcome: 'timeout' })
    onAbort = () => { resolve({ outcome: 'aborted' }) }
    if (abort?.aborted) onAbort()
    else abort?.addEventListener('abort', onAbort, { once: true })
  })
  const done = Promise.resolve(work).then((value): Timed<T> => ({ outcome: 'done', value }))
  try {
    return await Promise.race([done, cut])
  } finally {
    clearTimeout(timer)
    if (onAbort) abort?.removeEventListener('abort', onAbort)
  }
}
