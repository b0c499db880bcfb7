import { onTestFinished } from 'vitest'

/**
 * Runs each cleanup when the current test finishes, passed or failed, the last registered
 * first: vitest's `onTestFinished`, for cleanups that return anything (a server, a summary).
 * Prefer `await using` where the resource lives in the test's own scope.
 */
export function afterTest (...cleanups: (() => unknown)[]): void {
  for (const cleanup of cleanups) onTestFinished(async () => { await cleanup() })
}

/** Disposes `resource` when the current test finishes: for resources a helper makes, where `await using` cannot reach. */
export function disposeAfterTest<T extends AsyncDisposable> (resource: T): T {
  afterTest(() => resource[Symbol.asyncDispose]())
  return resource
}
