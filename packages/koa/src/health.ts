import type { AdapterView, HealthEndpoint } from '@graceful/core/adapter'
import { send } from './respond.js'
import type { KoaContextLike, KoaMiddleware, KoaNext } from './types.js'

/** The health middlewares of one instance; `answer` is what the gate calls. */
export function createHealth (view: AdapterView) {
  /** Answers `endpoint` if this is a GET or HEAD; false if the request is not for us. */
  async function answer (endpoint: HealthEndpoint | null, ctx: KoaContextLike): Promise<boolean> {
    if (endpoint === null || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return false
    send(ctx, endpoint === 'liveness' ? view.liveness() : await view.readiness())
    return true
  }

  // Named functions: they show up as such in stack traces and router debug output.
  async function gracefulHealth (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    // originalUrl: koa-mount strips its prefix from ctx.path, and health paths are full paths.
    if (!await answer(view.matchHealth(ctx.originalUrl), ctx)) await next()
  }
  async function gracefulLiveness (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    if (!await answer('liveness', ctx)) await next()
  }
  async function gracefulReadiness (ctx: KoaContextLike, next: KoaNext): Promise<void> {
    if (!await answer('readiness', ctx)) await next()
  }

  const health: KoaMiddleware = gracefulHealth
  const liveness: KoaMiddleware = gracefulLiveness
  const readiness: KoaMiddleware = gracefulReadiness
  return { answer, health, liveness, readiness }
}
