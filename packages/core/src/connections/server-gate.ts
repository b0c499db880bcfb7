import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AnyRequest, AnyResponse } from '../types/lifecycle.js'
import { noop } from '../support/noop.js'

type Listener = (this: unknown, req: AnyRequest, res: AnyResponse) => void

/**
 * Decides one request reaching an attached server after the trigger: true to
 * serve it (the listeners it was taken from run), false when it was answered
 * (the draining 503).
 */
export type Admit = (req: AnyRequest, res: AnyResponse) => boolean

/**
 * The gate at the server. While accepting, graceful adds nothing to a
 * server's `'request'` path. When the shutdown starts (off the hot path), the
 * server's `'request'` listeners are taken over: one gate listener decides
 * each request, then calls the saved listeners (Fastify's, Express's and Koa's
 * handlers, or the user's) unchanged. So the gate covers every framework
 * without a hook or middleware of its own, wherever the middleware is mounted.
 *
 * The first listener is the application (the one `createServer(handler)`
 * installed: Fastify, Express and Koa all do so); it never sees a request
 * answered with the 503. Listeners added after it are observers (a metrics
 * counter, say) and still see every request, as they did before.
 *
 * `'checkContinue'` is taken over too: a request with `Expect: 100-continue`
 * gets the draining 503 instead of `100 Continue`, and one that is served gets
 * `100 Continue` as Node would have sent it.
 *
 * Listeners for which `stays` is true stay where they are (graceful's own).
 * A server without a request listener of its own is left alone: an HTTP/2
 * server answering with the `'stream'` API would otherwise get a second
 * answer (the 503) on streams it answers itself; its new streams meet GOAWAY.
 * Returns a function that restores the listeners.
 */
export function takeOverRequests (server: NodeJS.EventEmitter, admit: Admit, stays: (listener: Listener) => boolean = () => false): () => void {
  const saved = (server.listeners('request') as Listener[]).filter((listener) => !stays(listener))
  const savedContinue = server.listeners('checkContinue') as Listener[]
  if (saved.length === 0 && savedContinue.length === 0) return noop
  for (const listener of saved) server.off('request', listener as never)
  for (const listener of savedContinue) server.off('checkContinue', listener as never)

  function gracefulGate (this: unknown, req: AnyRequest, res: AnyResponse): void {
    const admitted = admit(req, res)
    for (let i = admitted ? 0 : 1; i < saved.length; i++) saved[i]!.call(this, req, res)
  }
  function gracefulContinueGate (this: unknown, req: AnyRequest, res: AnyResponse): void {
    if (!admit(req, res)) return
    if (savedContinue.length > 0) {
      for (const listener of savedContinue) listener.call(this, req, res)
      return
    }
    ;(res as ServerResponse).writeContinue()
    for (const listener of saved) listener.call(this, req as IncomingMessage, res)
  }

  server.on('request', gracefulGate)
  server.on('checkContinue', gracefulContinueGate)
  return function restoreRequests (): void {
    server.off('request', gracefulGate)
    server.off('checkContinue', gracefulContinueGate)
    for (const listener of saved) server.on('request', listener as never)
    for (const listener of savedContinue) server.on('checkContinue', listener as never)
  }
}
