import type { ResolvedOptions } from '../types/options.js'
import { withTimeout } from '../support/timeout.js'
import type { AnyRequest, HealthResponse } from '../types/lifecycle.js'

const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

function respond (statusCode: 200 | 503, body: Record<string, unknown>): HealthResponse {
  return { statusCode, body: JSON.stringify(body), headers: { ...headers } }
}

/**
 * The URL health paths are matched on, the one source for the core's gate and
 * every adapter: the URL as the client sent it. Express strips a mount path
 * from `req.url` inside `app.use('/internal', …)` and keeps the original in
 * `req.originalUrl` (https://expressjs.com/en/api.html#req.originalUrl);
 * health paths are full paths, so they match wherever the middleware is mounted.
 * Koa keeps it on the context: adapters pass `ctx.originalUrl` to the gate.
 */
export function requestUrl (req: AnyRequest): string | undefined {
  return (req as AnyRequest & { originalUrl?: string }).originalUrl ?? req.url
}

/**
 * Which health endpoint a URL names, ignoring the query string. Runs on every
 * request `handler()` sees: compared in place, no substring allocated.
 */
export function matchHealth (health: Pick<ResolvedOptions['health'], 'liveness' | 'readiness'>, url: string | undefined): 'liveness' | 'readiness' | null {
  if (!url) return null
  if (health.liveness !== false && isPath(url, health.liveness)) return 'liveness'
  if (health.readiness !== false && isPath(url, health.readiness)) return 'readiness'
  return null
}

/**
 * The health endpoint a probe asks for: a GET or HEAD on a health path, served
 * for the whole drain. Another method on a health path is an ordinary request.
 */
export function probedEndpoint (health: Pick<ResolvedOptions['health'], 'liveness' | 'readiness'>, req: AnyRequest, url = requestUrl(req)): 'liveness' | 'readiness' | null {
  return req.method === 'GET' || req.method === 'HEAD' ? matchHealth(health, url) : null
}

/** `url` is `path`, or `path` and a query string. */
function isPath (url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */)
}

/** Liveness: the process is up. It stays 200 through the drain: a drain is not a reason to restart. */
export function liveness (): HealthResponse {
  return respond(200, { status: 'ok' })
}

/**
 * Readiness: 503 before startup completes, while paused and from the first
 * moment of draining; otherwise the user's checks decide, each under `checkTimeout`.
 * Error messages appear only with `detail: true`.
 */
export async function readiness (
  health: ResolvedOptions['health'],
  state: 'starting' | 'draining' | 'paused' | 'ready',
  reason: string | null = null,
): Promise<HealthResponse> {
  // A pause's reason is the operator's own words, not an internal error: it is always shown.
  if (state === 'paused') return respond(503, reason === null ? { status: state } : { status: state, reason })
  if (state !== 'ready') return respond(503, { status: state })
  const entries = Object.entries(health.checks)
  if (entries.length === 0) return respond(200, { status: 'ready' })

  const results = await Promise.all(entries.map(async ([name, check]) => [name, await runCheck(check, health.checkTimeout)] as const))
  const failed = results.some(([, result]) => result !== 'ok')
  const body: Record<string, unknown> = { status: failed ? 'unavailable' : 'ready' }
  if (health.detail) body.checks = Object.fromEntries(results)
  return respond(failed ? 503 : 200, body)
}

async function runCheck (check: () => unknown, timeout: number): Promise<string> {
  const work = Promise.resolve().then(check).then(() => 'ok', (error: unknown) => `error: ${error instanceof Error ? error.message : String(error)}`)
  const result = await withTimeout(work, timeout)
  return result.outcome === 'done' ? result.value : `timeout after ${timeout} ms`
}
