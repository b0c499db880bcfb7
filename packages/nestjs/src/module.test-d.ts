import type { DynamicModule, INestApplication } from '@nestjs/common'
import type { NestFastifyApplication } from '@nestjs/platform-fastify'
import { describe, expectTypeOf, test } from 'vitest'
import { enableGracefulShutdown, GRACEFUL, GracefulModule, InjectGraceful, type Graceful, type GracefulModuleOptions, type GracefulOptionsFactory } from './index.js'

describe('@graceful/nestjs types', () => {
  test('forRoot / forRootAsync return dynamic modules; options are the core options', () => {
    expectTypeOf(GracefulModule.forRoot()).toEqualTypeOf<DynamicModule>()
    expectTypeOf(GracefulModule.forRoot({ timeout: 10_000, readinessDelay: 5_000, logger: false })).toEqualTypeOf<DynamicModule>()
    GracefulModule.forRoot({ logger: { log: () => {}, warn: () => {}, error: () => {} } })
    GracefulModule.forRootAsync({ inject: ['CONFIG'], useFactory: (config: { timeout: number }) => ({ timeout: config.timeout }) })
    GracefulModule.forRootAsync({ useFactory: async () => ({ health: { liveness: '/live' } }) })
    // @ts-expect-error unknown option
    GracefulModule.forRoot({ timout: 1 })
    // @ts-expect-error useFactory must return options
    GracefulModule.forRootAsync({ useFactory: () => 42 })
    class Config implements GracefulOptionsFactory { createGracefulOptions () { return { timeout: 1 } } }
    expectTypeOf(GracefulModule.forRootAsync({ imports: [], useClass: Config })).toEqualTypeOf<DynamicModule>()
    GracefulModule.forRootAsync({ useExisting: Config })
    GracefulModule.forRootAsync({ useExisting: 'SHUTDOWN_CONFIG' })
    // @ts-expect-error one form only
    GracefulModule.forRootAsync({ useClass: Config, useFactory: () => ({}) })
    // @ts-expect-error inject goes with useFactory only
    GracefulModule.forRootAsync({ useClass: Config, inject: ['CONFIG'] })
    // @ts-expect-error the class must give options
    GracefulModule.forRootAsync({ useClass: class { createGracefulOptions () { return 42 } } })
    expectTypeOf<GracefulModuleOptions['timeout']>().toEqualTypeOf<number | undefined>()
  })

  test('enableGracefulShutdown keeps the app type', () => {
    expectTypeOf(enableGracefulShutdown(null as unknown as NestFastifyApplication)).toEqualTypeOf<NestFastifyApplication>()
    expectTypeOf(enableGracefulShutdown(null as unknown as INestApplication)).toEqualTypeOf<INestApplication>()
    // @ts-expect-error not a Nest application
    enableGracefulShutdown({})
  })

  test('the token and the decorator', () => {
    expectTypeOf(GRACEFUL).toExtend<string>()
    expectTypeOf(InjectGraceful()).toExtend<ParameterDecorator>()
    expectTypeOf(InjectGraceful()).toExtend<PropertyDecorator>()
    expectTypeOf<Graceful['track']>().returns.toExtend<Promise<unknown>>()
  })
})
