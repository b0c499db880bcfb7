// The shapes attach() takes and returns, on the ground floor: options.ts and
// attach.ts both need them, and neither imports the other for a type.
import type { HealthImplementation } from 'grpc-health-check'
import type { GrpcCall, StreamingCall } from './calls.js'

export interface GrpcOptions {
  /**
   * The `grpc.health.v1` service. By default one is created and added to the server;
   * pass your own `HealthImplementation` (already added with `addToServer`) to keep it,
   * or `false` for none.
   * @default a new HealthImplementation, added to the server
   */
  health?: HealthImplementation | false
  /**
   * Told at the drain start, once per server-streaming or bidirectional call in flight:
   * end it (`call.end()`), or send a last message first. Calls not ended here run until
   * they finish or the deadline cuts them. Health `Watch` streams are always ended.
   * @example onDrain: (entry) => entry.call.end()
   */
  onDrain?: (entry: StreamingCall) => void
}

/** What `attach()` returns. */
export interface GrpcAttachment {
  /** The health service in use, if any. */
  health: HealthImplementation | null
  /** Calls in flight now. */
  readonly calls: readonly GrpcCall[]
  /** Stop managing the server: handlers unwrapped, nothing happens at the drain. */
  detach: () => void
}
