import type { AttachableServer } from './connections.js'

/**
 * The process exits right after this shutdown, and its connections with
 * nothing in flight (idle, or closing after their last response) are left for
 * the kernel to close at exit: see `startDrain(leaveIdle)` and
 * `destroyAll(exiting)` in http1.ts. A framework's own close, run by a
 * release hook (Fastify's `app.close()`, NestJS's), calls the server's
 * `close()`, which in node:http destroys every idle connection one by one in
 * JavaScript (~20 µs each) and calls back only once the last one is gone:
 * about 20 ms for 1,000 idle connections, spent on what the kernel does for
 * free a moment later.
 *
 * So, for this server instance only and only on this path, `close()` ends
 * at once, as if those connections were gone: its listener is already closed
 * (by the drain), and what remains open has nothing in flight and is about to
 * be closed by the exit. It emits `'close'` (what `close()` promises, and what
 * code that calls it waits for) and calls back; net's own `'close'`, should
 * the idle connections end before the exit, is not emitted a second time.
 */
export function leaveIdleToKernel (server: AttachableServer): void {
  if (server.listening) return
  let closeEmitted = false
  const emit = server.emit
  server.emit = function emitCloseOnce (this: AttachableServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close') {
      if (closeEmitted) return false
      closeEmitted = true
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean
  }
  server.close = function closeLeavingIdle (this: AttachableServer, callback?: (error?: Error) => void) {
    if (typeof callback === 'function') this.once('close', () => { callback() })
    process.nextTick(() => this.emit('close'))
    return this
  }
}
