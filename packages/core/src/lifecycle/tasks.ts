import type { CutRequest, DrainContext } from '../types/lifecycle.js'
import { noop } from '../support/noop.js'

/** Work the drain waits for: Go's WaitGroup, with names so a cut can say what held it. */
export function createTasks (changed: () => void) {
  const active = new Map<Promise<unknown>, string>()
  // How tasks that integrations track (gRPC calls) are reported when the deadline cuts them.
  const reporters = new Map<Promise<unknown>, (now: number) => CutRequest>()
  let counter = 0

  function track<T> (name: string | undefined, promise: Promise<T>, cut?: (now: number) => CutRequest): Promise<T> {
    const label = name ?? `task#${++counter}`
    const settled = promise.finally(() => {
      active.delete(settled)
      reporters.delete(settled)
      changed()
    })
    // The caller gets the original outcome; our copy must not become an unhandled rejection.
    settled.catch(noop)
    active.set(settled, label)
    if (cut) reporters.set(settled, cut)
    return promise
  }

  return {
    track,
    run<T> (name: string | undefined, work: (context: DrainContext) => T | PromiseLike<T>, context: DrainContext, cut?: (now: number) => CutRequest): Promise<T> {
      let promise: Promise<T>
      try {
        promise = Promise.resolve(work(context))
      } catch (error) {
        promise = Promise.reject(error)
      }
      return track(name, promise, cut)
    },
    /** The deadline: what each unfinished task with a reporter says was cut. */
    cut: (now: number): CutRequest[] => [...reporters.values()].map((report) => report(now)),
    get size () { return active.size },
    names: () => [...active.values()],
  }
}

export type Tasks = ReturnType<typeof createTasks>
