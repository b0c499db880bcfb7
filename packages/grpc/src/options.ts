import { invalidOption } from '@graceful/core/adapter'
import type { GrpcOptions } from './types.js'

const known = new Set(['health', 'onDrain'])

/** Throws the core's named option error for anything `attach()` cannot take. */
export function validateOptions (options: GrpcOptions): void {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options)
  for (const key of Object.keys(options)) if (!known.has(key)) throw invalidOption(key, `one of ${[...known].join(', ')} (unknown option)`, key)
  const { health, onDrain } = options
  if (health !== undefined && health !== false && (typeof health !== 'object' || typeof (health as { setStatus?: unknown }).setStatus !== 'function')) {
    throw invalidOption('health', 'a grpc-health-check HealthImplementation or false', health)
  }
  if (onDrain !== undefined && typeof onDrain !== 'function') throw invalidOption('onDrain', 'a function', onDrain)
}
