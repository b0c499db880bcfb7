import type { Server } from 'node:http'
import type { Graceful, ShutdownSummary, State } from '@graceful/core'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import express4, { type RequestHandler as RequestHandler4 } from 'express4'
import { describe, expectTypeOf, test } from 'vitest'
import { graceful, type GracefulMiddleware, type Middleware } from './index.js'

describe('graceful() types', () => {
  const g = graceful({ timeout: 10_000, answerHealth: false })

  test('the middleware is an Express 5 and an Express 4 RequestHandler', () => {
    expectTypeOf(g).toExtend<RequestHandler>()
    expectTypeOf(g).toExtend<RequestHandler4>()
    expectTypeOf(g).not.toExtend<ErrorRequestHandler>()
    expectTypeOf(g.health).toExtend<RequestHandler>()
    expectTypeOf(g.liveness).toExtend<RequestHandler4>()
    expectTypeOf(g.readiness).toEqualTypeOf<Middleware>()
    express().use(g).get('/readyz', g.readiness)
    express4().use(g).use('/internal', g.health)
  })

  test('the core handle and its delegates', () => {
    expectTypeOf(g).toEqualTypeOf<GracefulMiddleware>()
    expectTypeOf(g.graceful).toEqualTypeOf<Graceful>()
    expectTypeOf(g.state).toEqualTypeOf<State>()
    expectTypeOf(g.signal).toEqualTypeOf<AbortSignal>()
    expectTypeOf(g.shutdown).returns.toEqualTypeOf<Promise<ShutdownSummary>>()
    expectTypeOf(g.pause).toEqualTypeOf<(reason?: string) => boolean>()
    expectTypeOf(g.resume).toEqualTypeOf<() => boolean>()
    expectTypeOf(g.attach).returns.toEqualTypeOf<() => void>()
    expectTypeOf(g.track(Promise.resolve(1))).toEqualTypeOf<Promise<number>>()
    expectTypeOf(g.track(({ signal }) => signal.aborted)).toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(g.markReady).toEqualTypeOf<() => void>()
    g.onClose(() => undefined, { name: 'db', timeout: 1000 })
    g.onClose({ close: () => Promise.resolve() })
    g.onDraining(({ signal, deadline }) => [signal, deadline])
    // @ts-expect-error read-only
    g.state = 'closed'
    // @ts-expect-error read-only
    g.health = g.liveness
  })

  test('listen() takes every listen() overload and returns the app\'s server', () => {
    const app = express()
    expectTypeOf(g.listen(app)).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(app, 3000)).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(express4(), 3000, '127.0.0.1', () => undefined)).toEqualTypeOf<Server>()
    g.listen(app, 3000, '0.0.0.0', 511, (error) => expectTypeOf(error).toEqualTypeOf<Error | undefined>())
    g.listen(app, '/tmp/app.sock')
    g.listen(app, { port: 0, host: '127.0.0.1' }, () => undefined)
    // @ts-expect-error not a listen() argument
    g.listen(app, true)
    // @ts-expect-error not something with listen()
    g.listen({}, 3000)
  })

  test('options', () => {
    graceful()
    graceful({ health: { liveness: '/live', readiness: false }, answerHealth: true, readinessDelay: 5000 })
    // @ts-expect-error answerHealth is a boolean
    graceful({ answerHealth: 'yes' })
    // @ts-expect-error unknown option
    graceful({ timout: 1 })
  })
})
