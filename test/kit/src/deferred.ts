/** A promise with its resolve/reject outside: holds a request open until the test says so. */
export interface Deferred<T = void> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (reason: unknown) => void
}

export function deferred<T = void> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Rejects if `promise` has not settled within `ms`: every wait in a test is bounded. */
export function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Options for `vi.waitFor` in these tests: wait for a state the test cannot get an event for
 * (a request reaching the server, a log line in a child), re-checking every 5 ms, for up to
 * 5 s, roomy on a busy two-core machine. Use as `await vi.waitFor(() => expect(…).toBe(…), patience)`.
 */
export const patience = { timeout: 5000, interval: 5 } as const
