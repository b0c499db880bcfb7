import type { INestApplication, INestApplicationContext } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { bridgeKey, type Bridge, type CloseApp } from './bridge.js'

/**
 * Hands the app's shutdown to graceful. Call it once, right after
 * `NestFactory.create()`, instead of `app.enableShutdownHooks()`:
 *
 * - SIGTERM / SIGINT (graceful owns them): readiness flips, `readinessDelay`,
 *   the drain, your `graceful.onClose()` hooks, then Nest's own sequence
 *   (`onModuleDestroy` → `beforeApplicationShutdown` → `onApplicationShutdown(signal)`),
 *   all within `timeout`; then the process exits.
 * - `app.close()` does the same, without exiting, and only once: every call
 *   returns once the whole shutdown is over.
 * - `app.enableShutdownHooks()` would have Nest close the listener and run its
 *   hooks at the signal, before the drain: if it was called, its signal
 *   listeners are removed, and a later call only logs a warning.
 *
 * @example
 * const app = await NestFactory.create(AppModule)
 * enableGracefulShutdown(app)
 * await app.listen(3000)
 */
export function enableGracefulShutdown<App extends INestApplication | INestApplicationContext> (app: App): App {
  const bridge = (app.get(HttpAdapterHost) as unknown as Record<symbol, Bridge | undefined>)[bridgeKey]
  if (!bridge) {
    throw new Error('graceful: enableGracefulShutdown(app) needs GracefulModule: add GracefulModule.forRoot() ' +
      '(or forRootAsync()) to the imports of your root module')
  }
  if (bridge.linked) return app
  const warn = (message: string) => bridge.core.options.logger?.warn({}, message)

  const internals = app as unknown as NestInternals
  if (hasShutdownListeners(internals)) {
    internals.unsubscribeFromProcessSignals?.()
    warn('graceful: app.enableShutdownHooks() was called: its signal listeners are removed, graceful owns SIGTERM/SIGINT ' +
      'and runs Nest\'s shutdown hooks after the drain. Remove the call.')
  }
  // NestFactory returns a Proxy whose `set` trap drops assignments:
  // defineProperty goes to the app itself. The original `close` is read off
  // the prototype, since reading it through the Proxy would find ours.
  const close = originalMethod(app, 'close') as CloseApp
  bridge.link((signal) => close.call(app, signal))
  define(app, 'close', function close (signal?: string) { return bridge.close(signal) })
  define(app, 'enableShutdownHooks', function enableShutdownHooks () {
    warn('graceful: app.enableShutdownHooks() ignored: graceful owns SIGTERM/SIGINT and runs Nest\'s shutdown hooks after the drain')
    return app
  })
  return app
}

/** What Nest keeps privately: `shutdownCleanupRefs` (Nest 12), `activeShutdownSignals` (Nest 10, 11). Feature-detected. */
interface NestInternals {
  shutdownCleanupRefs?: unknown
  activeShutdownSignals?: unknown
  unsubscribeFromProcessSignals?: () => void
}

function hasShutdownListeners (app: NestInternals): boolean {
  const refs = app.shutdownCleanupRefs
  if (refs instanceof Map) return refs.size > 0
  return Array.isArray(app.activeShutdownSignals) && app.activeShutdownSignals.length > 0
}

function originalMethod (app: object, name: string): (...args: unknown[]) => unknown {
  for (let proto = Object.getPrototypeOf(app) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)
    if (typeof descriptor?.value === 'function') return descriptor.value as (...args: unknown[]) => unknown
  }
  throw new TypeError(`graceful: the Nest application has no ${name}() method`)
}

function define (app: object, name: string, value: (...args: never[]) => unknown): void {
  Object.defineProperty(app, name, { value, writable: true, configurable: true, enumerable: false })
}
