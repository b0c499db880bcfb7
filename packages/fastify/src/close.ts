import { ErrorCodes, GracefulError, type Graceful } from '@graceful/core'
import type { FastifyInstance, RawServerBase } from 'fastify'

/**
 * Wires Fastify's close and the core's shutdown both ways, so whichever comes
 * first runs the other exactly once, and both paths run in one order:
 *
 *   drain → `app.graceful.onClose` hooks (last registered first)
 *         → Fastify's close (`preClose`, then every `onClose` hook) → closed
 *
 * - A signal or `app.graceful.shutdown()`: the core drains, runs its release
 *   hooks, and its last one calls `app.close()`.
 * - `app.close()`: our earliest `onClose` hook starts the shutdown and holds
 *   Fastify's close until the core reaches that same last release hook; our
 *   latest `onClose` hook holds `app.close()` until the shutdown is over.
 * - A shutdown during the boot: the app never listens (`onReady` refuses).
 */
export function wireClose (app: FastifyInstance<RawServerBase>, graceful: Graceful): void {
  // Who started Fastify's close, one way only:
  // - `open`: nobody yet;
  // - `user`: the user's app.close(), which drains first; `released` once the
  //   core reached the `fastify.close` release hook (drained, user release hooks done);
  // - `core`: that release hook, after a signal or `shutdown()`;
  // - `late`: app.close() while the release hooks run (from inside one,
  //   typically): the drain is over, so Fastify may close now, and app.close()
  //   must not wait for the shutdown, which waits for that very hook.
  let closing: 'open' | 'user' | 'released' | 'core' | 'late' = 'open'
  // The core reached the `fastify.close` release hook.
  const released = deferred()
  // Fastify's close reached the end of our part of its onClose queue.
  const fastifyClosed = deferred()

  // A shutdown that began while the app was still booting (a signal while a
  // slow plugin loads): `app.listen()` must not open the app to traffic once
  // the drain has begun. Fastify runs `onReady` hooks before it listens;
  // failing there makes `app.listen()` (and `app.ready()`) reject with this
  // error, which Fastify's close then reports again: not a failed close.
  let refused: GracefulError | undefined
  app.addHook('onReady', async function gracefulRefuseWhileDraining () {
    if (graceful.state === 'accepting') return
    refused = new GracefulError(ErrorCodes.DRAINING, 'the shutdown began before the app was ready: it will not listen')
    throw refused
  })

  // Registered now, first, so it runs last: release hooks run last registered first.
  graceful.onClose(async function fastifyClose () {
    released.resolve()
    if (closing === 'open') {
      closing = 'core'
      await app.close().catch((error: unknown) => {
        if (error !== refused) throw error
      })
      return
    }
    // app.close() is already under way (the user's): wait for it, never call it twice.
    if (closing === 'user') closing = 'released'
    return fastifyClosed.promise
  }, { name: 'fastify.close' })

  async function drainFirst (): Promise<void> {
    if (closing !== 'open') return
    if (graceful.state === 'closed') {
      closing = 'late'
      return
    }
    closing = 'user'
    // Waits for the drain and the release hooks before ours, not the whole
    // shutdown: that would wait for `fastifyClose`, which waits for this close.
    // The shutdown promise settles first only when the core skipped our hook
    // (forced by a second signal, or no budget left).
    await Promise.race([released.promise, graceful.shutdown('close')])
  }

  // Fastify's own close step is an onClose hook it adds once the plugins are
  // loaded; it first sets the `closing` flag, from which on (with the default
  // `return503OnClosing`) Fastify answers every request with its own 503, even
  // during our readiness delay, when we must serve normally. onClose hooks run
  // last added first, so one added when the app is ready runs before it.
  // `addHook` refuses hooks by then; `app.onClose` is the avvio method that
  // `addHook('onClose')` itself calls, present at runtime but not in Fastify's
  // typings. A test fails if Fastify ever answers during the delay.
  // https://github.com/fastify/fastify/blob/v5.12.8/fastify.js#L409
  app.addHook('onReady', function gracefulCloseOrder (done) {
    const { onClose } = app as unknown as { onClose?: (hook: () => Promise<void>) => unknown }
    if (typeof onClose === 'function') onClose.call(app, drainFirst)
    done()
  })
  // When the app is closed before it was ever ready, onReady never ran: drain here.
  app.addHook('preClose', drainFirst)

  // An app.close() from inside a release hook while the user's own app.close()
  // is held (the release hooks run inside it) would wait in avvio's close queue
  // behind that very close: a deadlock until the hook's timeout. The app is
  // already closing and will be closed right after the release hooks, so that
  // call returns at once. Any other app.close() is Fastify's own.
  // https://github.com/fastify/avvio/blob/v9.1.0/boot.js#L317
  const fastifyCloseMethod = app.close
  const held = () => closing === 'user' && graceful.state === 'closed'
  app.close = function gracefulClose (this: unknown, callback?: () => void) {
    if (!held()) return fastifyCloseMethod.call(this, callback as never) as never
    if (typeof callback === 'function') {
      process.nextTick(callback)
      return undefined as never
    }
    return Promise.resolve() as never
  } as typeof app.close

  app.addHook('onClose', async function gracefulClosed () {
    fastifyClosed.resolve()
    // `await app.close()` means everything is closed, the core's release hooks included.
    if (closing === 'user' || closing === 'released') await graceful.shutdown('close')
  })
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}
