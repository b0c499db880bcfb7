import type { AppSpec, RunningApp, Target } from './target.js'
import { deferred, inProcess, type Deferred } from '@graceful/test-kit'
import type { GracefulOptions } from '@graceful/core'

export interface Harness {
  app: RunningApp
  /** Opened by the test to let held `/slow` requests answer. */
  slow: Deferred
  /** Opened by the test to let held `/stream` responses end. */
  stream: Deferred
}

/** Starts `target` with held routes; `await using` tears it down. */
export async function startApp (target: Target, options: GracefulOptions = {}, spec: Omit<AppSpec, 'options'> = {}): Promise<Harness & AsyncDisposable> {
  const slow = deferred()
  const stream = deferred()
  const app = await target.start({
    options: { ...inProcess, ...options },
    slow: () => slow.promise,
    stream: () => stream.promise,
    ...spec,
  })
  return {
    app,
    slow,
    stream,
    [Symbol.asyncDispose]: async () => {
      slow.resolve()
      stream.resolve()
      await app[Symbol.asyncDispose]()
    },
  }
}
