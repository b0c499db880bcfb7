export { graceful } from './graceful.js'
export type {
  GracefulKoaOptions, GracefulMiddleware, KoaContextLike, KoaMiddleware, KoaNext,
} from './types.js'
// What a Koa app reaches for next, so it needs no second import.
export { ErrorCodes, ExitCodes, isGracefulError } from '@graceful/core'
export type { Graceful, GracefulOptions, HealthOptions, Logger, ShutdownSummary, State, Stats } from '@graceful/core'
export type { AdapterHandle, ListenArgs, Listenable } from '@graceful/core/adapter'
