import { ErrorCodes } from '@graceful/core'
import type { GrpcOptions } from './attach.js'

const known = new Set(['health', 'onDrain'])

/** A `TypeError` naming the option, like the core's. */
export function invalidOption (option: string, expected: string, received: unknown): TypeError {
  const shown = received === null ? 'null' : typeof received === 'object' ? (received.constructor?.name ?? 'object') : JSON.stringify(received) ?? typeof received
  return Object.assign(new TypeError(`graceful: option "${option}" must be ${expected}, received ${shown}`), { code: ErrorCodes.INVALID_OPTION, option })
}

export function validateOptions (options: GrpcOptions): void {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options)
  for (const key of Object.keys(options)) if (!known.has(key)) throw invalidOption(key, `one of ${[...known].join(', ')} (unknown option)`, key)
  const { health, onDrain } = options
  if (health !== undefined && health !== false && (typeof health !== 'object' || typeof (health as { setStatus?: unknown }).setStatus !== 'function')) {
    throw invalidOption('health', 'a grpc-health-check HealthImplementation or false', health)
  }
  if (onDrain !== undefined && typeof onDrain !== 'function') throw invalidOption('onDrain', 'a function', onDrain)
}
