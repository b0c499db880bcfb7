// @graceful/nestjs: the core's drain, then Nest's own shutdown hooks, on the
// Express and the Fastify platform. Where each piece lives:
//   module.ts  GracefulModule.forRoot / forRootAsync (global, provides the core handle)
//   enable.ts  enableGracefulShutdown(app): signals, app.close(), enableShutdownHooks()
//   bridge.ts  one per app: the core instance, Nest's close as the last release hook
//   servers.ts the node servers, attached to the core (which gates them at the trigger)
//   platform-internals.ts  the one private platform field read (Fastify's serverBindings), with its fallback
//   health.ts  liveness / readiness as real platform routes
//   logger.ts  Nest's Logger (or pino, or false) for the core
export { GracefulModule } from './module.js'
export { enableGracefulShutdown } from './enable.js'
export { GRACEFUL, GRACEFUL_OPTIONS, InjectGraceful } from './tokens.js'
export type { GracefulModuleAsyncOptions, GracefulModuleOptions, GracefulOptionsFactory } from './options.js'
export { ErrorCodes, ExitCodes, isGracefulError } from '@graceful/core'
export type { Graceful, GracefulOptions, HealthOptions, Logger, ShutdownSummary, State, Stats } from '@graceful/core'
