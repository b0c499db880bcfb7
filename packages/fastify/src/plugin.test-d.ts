import type { Http2Server } from 'node:http2'
import type { Graceful, QuietPeriod, ShutdownSummary } from '@graceful/core'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type RawServerBase } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import graceful, { fastifyGraceful, type FastifyGracefulOptions } from './index.js'

describe('types', () => {
  it('decorates every Fastify instance with app.graceful', () => {
    const app = Fastify()
    expectTypeOf(app.graceful).toEqualTypeOf<Graceful>()
    expectTypeOf(app.graceful.shutdown).returns.toEqualTypeOf<Promise<ShutdownSummary>>()
    expectTypeOf(app.graceful.pause).toEqualTypeOf<(reason?: string) => boolean>()
    expectTypeOf(app.graceful.state).toEqualTypeOf<'accepting' | 'draining' | 'closed'>()
    expectTypeOf(app.graceful.signal).toEqualTypeOf<AbortSignal>()

    const h2 = Fastify({ http2: true })
    expectTypeOf(h2.graceful).toEqualTypeOf<Graceful>()
    expectTypeOf<FastifyInstance<Http2Server>['graceful']>().toEqualTypeOf<Graceful>()
  })

  it('is a Fastify plugin taking the core options', () => {
    expectTypeOf(graceful).toEqualTypeOf(fastifyGraceful)
    expectTypeOf(graceful).toExtend<FastifyPluginAsync<FastifyGracefulOptions, RawServerBase>>()
    expectTypeOf<FastifyGracefulOptions['timeout']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<FastifyGracefulOptions['readinessDelay']>().toEqualTypeOf<number | QuietPeriod | undefined>()
  })

  it('accepts its options in app.register and rejects wrong ones', async () => {
    const app = Fastify()
    await app.register(graceful)
    await app.register(graceful, { timeout: 10_000, readinessDelay: 5_000, health: { readiness: '/ready' }, signals: ['SIGTERM'] })
    await app.register(graceful, () => ({ timeout: 10_000 }))
    await app.register(graceful, { prefix: '/ops', logger: app.log })
    await app.register(graceful, { logLevel: 'warn', healthRoutes: { logLevel: 'silent', hide: true, schema: { tags: ['ops'] } } })
    // @ts-expect-error a log level name
    await app.register(graceful, { healthRoutes: { logLevel: 'loud' } })

    const h2 = Fastify({ http2: true })
    await h2.register(graceful, { timeout: 5_000 })

    // @ts-expect-error timeout is a number of milliseconds
    await app.register(graceful, { timeout: '10s' })
    // @ts-expect-error unknown option
    await app.register(graceful, { timout: 10_000 })
    // @ts-expect-error signals are signal names
    await app.register(graceful, { signals: ['SIGWHAT'] })
  })
})
