import type { Graceful } from '@graceful/core'
import { fastifyGraceful } from './plugin.js'

export { fastifyGraceful }
export type { FastifyGracefulOptions } from './plugin.js'
export type { HealthRouteOptions } from './options.js'
export { ErrorCodes, ExitCodes, isGracefulError } from '@graceful/core'
export type { Graceful, GracefulOptions, HealthOptions, ShutdownSummary, Stats } from '@graceful/core'

declare module 'fastify' {
  interface FastifyInstance {
    /** The graceful handle: `state`, `shutdown()`, `onClose()`, `onDraining()`, `track()`, `signal`, `markReady()`, `stats()`, events. */
    graceful: Graceful
  }
}

export default fastifyGraceful
