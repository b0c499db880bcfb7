import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdapterView } from '@graceful/core/adapter'
import type { FastifyInstance, RawServerBase } from 'fastify'
import type LightMyRequest from 'light-my-request'
import { noop } from '@graceful/core/adapter'

type Inject = typeof LightMyRequest

/**
 * `app.inject()` is how Fastify users test their shutdown, and it must see
 * what a socket sees. It never reaches `app.server`, where the core gates
 * requests while draining (core's connections/server-gate.ts), so while the app is draining this
 * `inject()` runs each request through the same gate first: `Connection:
 * close` during the readiness delay, the draining 503 during the drain,
 * health probes served. While accepting and once the drain is over it is
 * Fastify's own `inject()`, untouched: real sockets pay nothing for this.
 *
 * light-my-request (what Fastify's `inject()` runs on) is loaded the first
 * time `inject()` is called, as Fastify loads it only when first asked for:
 * its option validation costs ~10 ms to load, which a production shutdown
 * (that never injects) must not spend between SIGTERM and its exit. Until it
 * is loaded, the chained form (`app.inject().get(url).end()`) is Fastify's
 * own; the other forms wait for it.
 */
export function gateInject (app: FastifyInstance<RawServerBase>, view: AdapterView): void {
  const graceful = view.graceful
  const fastifyInject = app.inject
  let loading: Promise<Inject> | undefined
  let loaded: Inject | undefined
  const load = () => loading ??= import('light-my-request').then((module) => {
    loaded = (module as { default?: Inject }).default ?? (module as unknown as Inject)
    return loaded
  })

  function gracefulInjectDispatch (req: IncomingMessage, res: ServerResponse): void {
    app.ready((error) => {
      if (error) {
        res.emit('error', error)
        return
      }
      if (view.gate(req, res) === 'reject') view.reject(req, res)
      else app.routing(req, res)
    })
  }

  app.inject = function gracefulInject (this: unknown, options?: unknown, callback?: unknown) {
    if (graceful.state !== 'draining') {
      // Ready for a drain this app may inject into later (the module Fastify's inject() requires now too).
      load().catch(noop)
      return (fastifyInject as (...args: unknown[]) => unknown).call(this, options, callback)
    }
    const dispatch = gracefulInjectDispatch as LightMyRequest.DispatchFunc
    if (options === undefined) return loaded ? loaded(dispatch) : (fastifyInject as () => unknown).call(this)
    const opts = options as LightMyRequest.InjectOptions
    if (typeof callback === 'function') {
      const done = callback as LightMyRequest.CallbackFunc
      load().then((inject) => { inject(dispatch, opts, done) }, (error: Error) => { done(error, undefined as never) })
      return undefined
    }
    return load().then((inject) => inject(dispatch, opts))
  } as typeof app.inject
}
