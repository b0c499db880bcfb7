import type { DrainContext } from './types.js'

/** Work the drain waits for: Go's WaitGroup, with names so a cut can say what held it. */
export function createTasks (changed: () => void) {
  const active = new Map<Promise<unknown>, string>()
  let counter = 0

  function track<T> (name: string | undefined, promise: Promise<T>): Promise<T> {
    const label = name ?? `task#${++counter}`
    const settled = promise.finally(() => {
      active.delete(settled)
      changed()
    })
    // The caller gets the original outcome; our copy must not become an unhandled rejection.
    settled.catch(noop)
    active.set(settled, label)
    return promise
  }

  return {
    track,
    run<T> (name: string | undefined, work: (context: DrainContext) => T | PromiseLike<T>, context: DrainContext): Promise<T> {
      let promise: Promise<T>
      try {
        promise = Promise.resolve(work(context))
      } catch (error) {
        promise = Promise.reject(error)
      }
      return track(name, promise)
    },
    get size () { return active.size },
    names: () => [...active.values()],
  }
}

function noop (): void {}

export type Tasks = ReturnType<typeof createTasks>
