import type { Server } from 'node:http'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { describe, expectTypeOf, it } from 'vitest'
import type { Graceful, GracefulOptions, ShutdownSummary, State } from '@graceful/core'
import { graceful, type GracefulKoaOptions, type GracefulMiddleware } from './index.js'

const g = graceful({ timeout: 10_000 })

describe('graceful() types', () => {
  it('takes the core options and returns the middleware handle', () => {
    expectTypeOf(graceful).parameter(0).toEqualTypeOf<GracefulKoaOptions | undefined>()
    expectTypeOf<GracefulKoaOptions>().toExtend<GracefulOptions>()
    graceful({ answerHealth: false, health: { liveness: '/livez' } })
    // @ts-expect-error answerHealth is a boolean
    graceful({ answerHealth: 'no' })
    expectTypeOf(g).toEqualTypeOf<GracefulMiddleware>()
    // @ts-expect-error timeout is a number of milliseconds
    graceful({ timeout: '10s' })
    // @ts-expect-error unknown option
    graceful({ timout: 10_000 })
  })

  it('is a Koa middleware for Koa 3 and Koa 2 typings', () => {
    expectTypeOf(g).toExtend<Koa3.Middleware>()
    expectTypeOf(g).toExtend<Koa2.Middleware>()
    for (const health of [g.health, g.liveness, g.readiness]) {
      expectTypeOf(health).toExtend<Koa3.Middleware>()
      expectTypeOf(health).toExtend<Koa2.Middleware>()
    }

    const app3 = new Koa3<{ user?: string }, { requestId: string }>()
    app3.use(g)
    app3.use(g.health)
    const app2 = new Koa2<{ user?: string }, { requestId: string }>()
    app2.use(g)
    app2.use(g.liveness)
  })

  it('attaches servers and listens through the app', () => {
    expectTypeOf(g.attach).returns.toEqualTypeOf<() => void>()
    expectTypeOf(g.listen(new Koa3(), 3000)).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(new Koa3(), 3000, () => {})).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(new Koa2(), 3000, '127.0.0.1', () => {})).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(new Koa3(), { port: 0, host: '127.0.0.1' })).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(new Koa3(), '/tmp/app.sock')).toEqualTypeOf<Server>()
    expectTypeOf(g.listen(new Koa3())).toEqualTypeOf<Server>()
    // @ts-expect-error not a listen argument
    g.listen(new Koa3(), true)
    // @ts-expect-error not an app
    g.listen({}, 3000)
  })

  it('delegates to the core handle', () => {
    expectTypeOf(g.graceful).toEqualTypeOf<Graceful>()
    expectTypeOf(g.state).toEqualTypeOf<State>()
    expectTypeOf(g.signal).toEqualTypeOf<AbortSignal>()
    expectTypeOf(g.shutdown).returns.toEqualTypeOf<Promise<ShutdownSummary>>()
    expectTypeOf(g.pause).toEqualTypeOf<(reason?: string) => boolean>()
    expectTypeOf(g.resume).toEqualTypeOf<() => boolean>()
    expectTypeOf(g.track(Promise.resolve(1))).toEqualTypeOf<Promise<number>>()
    expectTypeOf(g.onClose).toEqualTypeOf<Graceful['onClose']>()
    g.onClose((signal) => expectTypeOf(signal).toEqualTypeOf<AbortSignal>())
    g.onClose({ close: () => {} }, { name: 'db', timeout: 500 })
    g.onDraining(({ signal }) => expectTypeOf(signal).toEqualTypeOf<AbortSignal>())
  })
})
