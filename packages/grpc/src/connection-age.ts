import type { ChannelOptions } from '@grpc/grpc-js'
import type { Graceful } from '@graceful/core'

/** grpc-js's own names for the maximum connection age and its grace. */
export interface ConnectionAgeChannelOptions {
  'grpc.max_connection_age_ms'?: number
  'grpc.max_connection_age_grace_ms'?: number
}

/**
 * The core's `maxConnectionAge` and `maxConnectionAgeGrace` as grpc-js server
 * options: grpc-js caps connection ages itself (GOAWAY, then close; ±10 %
 * jitter of its own), but reads its options once, in the constructor, before
 * `attach()` can run. Spread them into `new grpc.Server(...)`. Empty when the
 * option is off.
 *
 * @example
 * const graceful = createGraceful({ maxConnectionAge: 5 * 60_000, maxConnectionAgeGrace: 30_000 })
 * const server = new grpc.Server({ ...connectionAgeOptions(graceful) })
 * attach(graceful, server)
 */
export function connectionAgeOptions (graceful: Graceful): ConnectionAgeChannelOptions {
  const age = graceful.options.connectionAge
  if (!age) return {}
  return {
    'grpc.max_connection_age_ms': age.age,
    ...age.grace === null ? {} : { 'grpc.max_connection_age_grace_ms': age.grace },
  }
}

/**
 * True when a server was created without the age option though the instance
 * has one. grpc-js keeps its constructor options in `server.options` (private
 * in 1.x, read once at `attach()`, feature-detected: unknown means no warning).
 */
export function missesConnectionAge (graceful: Graceful, server: object): boolean {
  if (!graceful.options.connectionAge) return false
  const options = (server as { options?: ChannelOptions }).options
  return typeof options === 'object' && options !== null && options['grpc.max_connection_age_ms'] === undefined
}
