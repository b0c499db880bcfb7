import { EventEmitter } from 'node:events'
import type { Graceful } from '../types/handle.js'
import type { GracefulEvents } from '../types/lifecycle.js'
import { publish } from './channels.js'
import { createObservers } from './observers.js'

export type Emit = <E extends keyof GracefulEvents>(event: E, ...args: GracefulEvents[E]) => void

export interface Events {
  /** Where the handle's `on()`, `once()` and `off()` add and remove listeners. */
  readonly emitter: EventEmitter
  emit: Emit
}

/**
 * Every event of an instance goes out here: to the handle's listeners, then to
 * its diagnostics_channel (channels.ts), which carries `source()`, the handle.
 * Each listener on its own: one that throws (or rejects) is reported once and
 * the rest still run.
 */
export function createEvents (source: () => Graceful): Events {
  const emitter = new EventEmitter()
  const observers = createObservers()
  return {
    emitter,
    emit (event, ...args) {
      for (const listener of emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[]) {
        observers.call(`"${event}" listener`, () => listener.apply(emitter, args))
      }
      publish(event, source(), args[0])
    },
  }
}
