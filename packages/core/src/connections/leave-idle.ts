import type { AttachableServer } from '../types/handle.js'

/**
 * The process exits right after this shutdown, and its connections with
 * nothing in flight (idle, or closing after their last response) are left for
 * the kernel to close at exit (the one decision: `exitClosesIdle()` in
 * lifecycle.ts; the one entry: `leaveIdleToExit()` in tracker.ts). A framework's own close, run by a
 * release hook (Fastify's `app.close()`, NestJS's), calls the server's
 * `close()`, which in node:http destroys every idle connection one by one in
 * JavaScript (~20 µs each) and calls back only once the last one is gone:
 * about 20 ms for 1,000 idle connections, spent on what the kernel does for
 * free a moment later.
 *
 * So, for this server instance only and only on this path, `close()` ends
 * at once, as if those connections were gone: its listener is already closed
 * (by the drain), and what remains open has nothing in flight and is about to
 * be closed by the exit. Each call emits `'close'` (what `close()` promises,
 * and what code that calls it waits for: node:http emits it again too when
 * `close()` is called on a closed server) and calls back. Once it has, net's
 * own `'close'`, when the idle connections end before the exit, is not
 * emitted a second time.
 */
export function leaveIdleToKernel (server: AttachableServer): void {
  if (server.listening) return
  const emit = server.emit
  let emittedHere = false
  server.emit = function emitNoLateClose (this: AttachableServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close' && emittedHere) return false
    return Reflect.apply(emit, this, [event, ...args]) as boolean
  }
  server.close = function closeLeavingIdle (this: AttachableServer, callback?: (error?: Error) => void) {
    if (typeof callback === 'function') this.once('close', () => { callback() })
    process.nextTick(() => {
      emittedHere = true
      Reflect.apply(emit, this, ['close'])
    })
    return this
  }
}
