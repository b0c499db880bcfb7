import type { Middleware } from './types.js'

// Every private Express field this package reads, and only here, at attach
// (never per request), feature-detected; when one is not as expected, `g`
// stays the middleware it is (correct, a dispatch per request slower):
//
//   field                                  for
//   app._router (Express 4; 5: app.router)  the app's own router
//   router.stack, layer.handle/route        finding g's layer, replacing it in place
//   layer.slash (5) / layer.regexp.fast_slash (4)  g mounted at the root
//
// Checked on Express 4.21 and 5.1; express.test.ts runs on both.

interface Layer {
  handle: unknown
  route?: unknown
  /** Express 5 (router 2): a layer mounted at `/` without `end`. */
  slash?: boolean
  /** Express 4: the same, on its RegExp. */
  regexp?: { fast_slash?: boolean }
}

interface Router {
  stack: Layer[]
  route: (path: string[]) => { get: (handler: Middleware) => unknown }
}

// Characters Express's path syntax reads as plain text (anything else, like
// `:` or `*`, would make a health path a pattern): otherwise `g` stays a layer.
const plainPath = /^[\w\-./~%@!$&'+,;=]+$/

/**
 * Once `g` is mounted at the root of the app it serves and the app listens
 * through an attached server, `g`'s layer in the app's router is replaced, at
 * the same index, by a route for the health paths: what a hand-written
 * `app.get(['/livez', '/readyz'], …)` costs. Every other request then skips it
 * with a path comparison instead of running a middleware (a matched layer
 * costs Express a dispatch, a `next()` and an allocation per request).
 * Nothing else `g` does per request is needed once the server is attached:
 * the drain's gate lives in the server (see @graceful/core's server gate).
 *
 * The route's handler still matches the exact path (`matchHealth`), so
 * Express's case-insensitive and trailing-slash matching changes nothing.
 * Replaced in place, the stack keeps its length: a request iterating it right
 * now never skips a layer. Anything unexpected (no router, `g` mounted under a
 * path or in a sub-router, a health path Express would read as a pattern)
 * leaves `g` as it is.
 */
export function routeHealth (app: unknown, middleware: Middleware, health: Middleware, paths: string[]): void {
  if (paths.length === 0 || !paths.every((path) => plainPath.test(path))) return
  const router = routerOf(app)
  if (!router) return
  const index = router.stack.findIndex((layer) => layer.handle === middleware)
  const layer = router.stack[index]
  if (!layer || layer.route !== undefined || !(layer.slash === true || layer.regexp?.fast_slash === true)) return
  // `route()` appends the new layer: move it to g's index.
  router.route(paths).get(health)
  router.stack[index] = router.stack.pop()!
}

/** The app's own router: `app.router` in Express 5, `app._router` in 4 (whose `app.router` throws). */
function routerOf (app: unknown): Router | undefined {
  if (typeof app !== 'function') return undefined
  let router = (app as { _router?: unknown })._router
  if (router === undefined) {
    try {
      router = (app as { router?: unknown }).router
    } catch {
      return undefined
    }
  }
  const candidate = router as Partial<Router> | undefined
  return candidate && Array.isArray(candidate.stack) && typeof candidate.route === 'function' ? candidate as Router : undefined
}

/** The Express app among a server's `'request'` listeners (an app has `handle` and `set`). */
export function appOf (listeners: readonly unknown[]): unknown {
  return listeners.find((listener) => typeof listener === 'function' &&
    typeof (listener as { handle?: unknown }).handle === 'function' &&
    typeof (listener as { set?: unknown }).set === 'function')
}
