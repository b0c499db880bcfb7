import { Inject, Injectable, Module, type Provider } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { describe, expect, it, vi } from 'vitest'
import { afterTest, deferred, inProcess, openConnection, patience, sendRequest, tryConnect, within } from '@graceful/test-kit'
import { startNestApp, type NestAppSpec, type NestPlatform } from '../../../test/targets/nestjs-app.js'
import { enableGracefulShutdown, GRACEFUL, GracefulModule, InjectGraceful, type Graceful, type GracefulModuleOptions, type GracefulOptionsFactory } from './index.js'

/** In-process: never touch the test worker's signals or exit it. */

const platforms: NestPlatform[] = ['express', 'fastify']

/** A provider with every Nest shutdown hook, recording into `events`. */
function recorder (events: string[], graceful: () => Graceful, hooks: { onModuleDestroy?: () => unknown } = {}): Provider {
  return {
    provide: 'recorder',
    useFactory: () => ({
      onModuleDestroy: () => {
        events.push(`onModuleDestroy inFlight=${graceful().stats().inFlight} state=${graceful().state}`)
        return hooks.onModuleDestroy?.()
      },
      beforeApplicationShutdown: (signal?: string) => { events.push(`beforeApplicationShutdown ${signal}`) },
      onApplicationShutdown: (signal?: string) => { events.push(`onApplicationShutdown ${signal}`) },
    }),
  }
}

describe.each(platforms)('@graceful/nestjs on %s', (platform) => {
  async function start (options: GracefulModuleOptions = {}, spec: NestAppSpec = {}) {
    const slow = deferred()
    const stream = deferred()
    const app = await startNestApp(platform, { slow: () => slow.promise, stream: () => stream.promise, ...spec, options: { ...inProcess, ...options } })
    afterTest(async () => {
      slow.resolve()
      stream.resolve()
      await app[Symbol.asyncDispose]()
    })
    return { ...app, slow, stream }
  }

  it("runs Nest's hooks after the drain and the graceful.onClose hooks, in Nest's order, with the signal", async () => {
    const events: string[] = []
    const h = await start({}, { providers: [recorder(events, () => h.graceful)] })
    const graceful = h.graceful
    graceful.on('drained', () => events.push('drained'))
    graceful.onClose(() => { events.push('graceful.onClose') }, { name: 'queue' })
    await using conn = await openConnection(h.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)
    // The trigger a SIGTERM gives (the child-process test sends a real one).
    const summary = graceful.shutdown('SIGTERM')
    h.slow.resolve()
    expect((await held).status).toBe(200)
    const result = await within(summary, 5000, 'the summary')
    expect(events).toEqual([
      'drained',
      'graceful.onClose',
      'onModuleDestroy inFlight=0 state=closed',
      'beforeApplicationShutdown SIGTERM',
      'onApplicationShutdown SIGTERM',
    ])
    expect(result.hooks.map((hook) => [hook.name, hook.status])).toEqual([['queue', 'ok'], ['nest', 'ok']])
    expect(result.outcome).toBe('clean')
  })

  it('a Nest hook that hangs is cut by the budget: the shutdown ends within timeout, reported by name', async () => {
    const events: string[] = []
    const hang = deferred()
    const h = await start({ timeout: 1500, releaseTimeout: 500 }, {
      providers: [recorder(events, () => h.graceful, { onModuleDestroy: () => hang.promise })],
    })
    // Teardown's app.close() waits for Nest's close, still stuck in the hook: let it go then.
    afterTest(async () => { hang.resolve() })
    const graceful = h.graceful
    const errors: string[] = []
    graceful.on('hookError', (hook) => errors.push(`${hook.name}:${hook.status}`))
    const started = Date.now()
    const result = await within(graceful.shutdown(), 5000, 'the summary')
    expect(Date.now() - started).toBeLessThan(1500 + 1000)
    expect(errors).toEqual(['nest:timeout'])
    expect(result.outcome).toBe('failed')
    expect(result.exitCode).toBe(1)
    expect(events).toEqual(['onModuleDestroy inFlight=0 state=closed'])
  })

  it('app.close() by the user drains first and runs the hooks once; later calls wait for the same close', async () => {
    const events: string[] = []
    const h = await start({}, { providers: [recorder(events, () => h.graceful)] })
    const graceful = h.graceful
    await using conn = await openConnection(h.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)
    let closed = false
    const first = h.app.close().then(() => { closed = true })
    const second = h.app.close()
    expect(graceful.state).toBe('draining')
    // The listener is closed, not before: Nest's own close would refuse it during a readiness delay.
    await vi.waitFor(() => expect(graceful.stats().inFlight === 1 && events.length === 0, 'the drain to hold the request').toBe(true), patience)
    expect(closed).toBe(false)
    h.slow.resolve()
    expect((await held).body).toBe('slow')
    await within(Promise.all([first, second]), 5000, 'app.close()')
    await within(h.app.close(), 5000, 'a third app.close()')
    expect(events).toEqual(['onModuleDestroy inFlight=0 state=closed', 'beforeApplicationShutdown undefined', 'onApplicationShutdown undefined'])
    expect(h.closeHookRuns()).toBe(1)
    const summary = await graceful.shutdown()
    expect(summary.trigger).toBe('close')
    expect(summary.outcome).toBe('clean')
  })

  it('app.close() called inside a graceful.onClose hook closes Nest there, without a deadlock', async () => {
    const h = await start({ timeout: 10_000 })
    const order: string[] = []
    h.graceful.onClose(async () => {
      await h.app.close()
      order.push(`hook after app.close runs=${h.closeHookRuns()}`)
    }, { name: 'closes-nest' })
    const started = Date.now()
    const summary = await within(h.graceful.shutdown(), 5000, 'the summary')
    expect(Date.now() - started).toBeLessThan(2000)
    expect(order).toEqual(['hook after app.close runs=1'])
    expect(summary.hooks.map((hook) => [hook.name, hook.status])).toEqual([['closes-nest', 'ok'], ['nest', 'ok']])
    expect(h.closeHookRuns()).toBe(1)
  })

  it('app.close("SIGHUP") passes its signal to the hooks', async () => {
    const events: string[] = []
    const h = await start({}, { providers: [recorder(events, () => h.graceful)] })
    // Nest's close(signal?) takes one, though INestApplication's typings do not say so.
    const close = h.app.close as (signal?: string) => Promise<void>
    await within(close('SIGHUP'), 5000, 'app.close()')
    expect(events.slice(1)).toEqual(['beforeApplicationShutdown SIGHUP', 'onApplicationShutdown SIGHUP'])
    expect((await h.graceful.shutdown()).trigger).toBe('SIGHUP')
  })

  it('a service injects the handle: track() holds the drain, signal aborts when it starts', async () => {
    const work = deferred()
    class ReportService {
      constructor (readonly graceful: Graceful) {}
      render () {
        return this.graceful.track(async ({ signal }) => { await work.promise; return signal.aborted }, { name: 'report' })
      }
    }
    InjectGraceful()(ReportService, undefined, 0)
    Injectable()(ReportService)
    const h = await start({}, { providers: [ReportService] })
    const service = h.app.get(ReportService)
    expect(service.graceful).toBe(h.graceful)
    expect(h.app.get(GRACEFUL)).toBe(h.graceful)
    const rendered = service.render()
    const summary = h.graceful.shutdown()
    await vi.waitFor(() => expect(h.graceful.signal.aborted, 'the drain to start').toBe(true), patience)
    expect(h.graceful.stats().tasks).toBe(1)
    expect(h.closeHookRuns()).toBe(0)
    work.resolve()
    expect(await rendered).toBe(false)
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
    expect(h.closeHookRuns()).toBe(1)
  })

  it('app.enableShutdownHooks() called before: its signal listeners are removed, with a warning; called after: ignored', async () => {
    const before = process.listenerCount('SIGTERM')
    const logger = { log: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const h = await start({ logger }, { setup: 'shutdown-hooks-first' })
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('app.enableShutdownHooks() was called: its signal listeners are removed'))
    expect(h.app.enableShutdownHooks()).toBe(h.app)
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(logger.warn).toHaveBeenLastCalledWith(expect.stringContaining('app.enableShutdownHooks() ignored'))
  })

  it('without enableGracefulShutdown(app): a warning at startup; the drain still works', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const h = await start({ logger }, { setup: 'none' })
    expect(logger.warn).toHaveBeenCalledWith({ code: 'ERR_GRACEFUL_NOT_ATTACHED' }, expect.stringContaining('enableGracefulShutdown(app) was not called'))
    expect((await sendRequest(h.port, '/readyz')).status).toBe(200)
    expect((await within(h.graceful.shutdown(), 5000, 'the summary')).outcome).toBe('clean')
    expect(await tryConnect(h.port)).toBe('ECONNREFUSED')
    expect(h.closeHookRuns()).toBe(0)
  })

  it('enableGracefulShutdown(app) without the module: a clear error', async () => {
    class Bare {}
    Module({})(Bare)
    const options = { logger: false, abortOnError: false } as const
    const app = platform === 'express'
      ? await NestFactory.create(Bare, new ExpressAdapter(), options)
      : await NestFactory.create(Bare, new FastifyAdapter(), options)
    afterTest(() => app.close())
    expect(() => enableGracefulShutdown(app)).toThrow(/GracefulModule\.forRoot\(\)/)
  })

  it('health paths from the options are real routes; the gate lets them through while draining', async () => {
    const h = await start({ health: { liveness: '/internal/live', readiness: '/internal/ready' }, readinessDelay: 10_000, timeout: 20_000 })
    expect((await sendRequest(h.port, '/internal/ready?probe=1')).status).toBe(200)
    expect((await sendRequest(h.port, '/internal/live', { method: 'HEAD' })).status).toBe(200)
    expect((await sendRequest(h.port, '/readyz')).status).toBe(404)
    void h.graceful.shutdown()
    expect((await sendRequest(h.port, '/internal/ready')).status).toBe(503)
    expect((await sendRequest(h.port, '/internal/live')).status).toBe(200)
  })

  it('health routes are platform routes: middleware and hooks added in main apply to them', async () => {
    const seen: string[] = []
    const h = await start({}, {
      beforeListen: (app) => {
        const instance = app.getHttpAdapter().getInstance() as {
          use?: (fn: (req: { url: string }, res: unknown, next: () => void) => void) => void
          addHook?: (name: 'onRequest', fn: (request: { url: string }, reply: unknown, done: () => void) => void) => void
        }
        if (platform === 'express') instance.use?.((req, _res, next) => { seen.push(req.url); next() })
        else instance.addHook?.('onRequest', (request, _reply, done) => { seen.push(request.url); done() })
      },
    })
    expect((await sendRequest(h.port, '/readyz')).status).toBe(200)
    expect((await sendRequest(h.port, '/livez')).status).toBe(200)
    expect(seen).toEqual(['/readyz', '/livez'])
  })
})

describe('GracefulModule options', () => {
  it('forRoot() validates at once and names the option', () => {
    expect(() => GracefulModule.forRoot({ timeout: -1 })).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'timeout' }))
    expect(() => GracefulModule.forRoot({ timout: 1 } as GracefulModuleOptions)).toThrow(/"timout"/)
    expect(() => GracefulModule.forRoot({ logger: 'yes' } as unknown as GracefulModuleOptions)).toThrow(expect.objectContaining({ option: 'logger' }))
    expect(() => GracefulModule.forRootAsync({} as never)).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'forRootAsync' }))
    expect(() => GracefulModule.forRootAsync({} as never)).toThrow(/useFactory, useClass or useExisting/)
    class Options { createGracefulOptions () { return {} } }
    expect(() => GracefulModule.forRootAsync({ useFactory: () => ({}), useClass: Options } as never)).toThrow(/received "useFactory and useClass"/)
    expect(() => GracefulModule.forRootAsync({ useFactory: 'no' } as never)).toThrow(expect.objectContaining({ option: 'useFactory' }))
    expect(() => GracefulModule.forRootAsync({ useClass: {} } as never)).toThrow(expect.objectContaining({ option: 'useClass' }))
    expect(() => GracefulModule.forRootAsync(null as never)).toThrow(expect.objectContaining({ option: 'forRootAsync' }))
  })

  it('forRootAsync({ useClass }): Nest builds the class in the module, with its own dependencies, and calls createGracefulOptions()', async () => {
    class ConfigModule {}
    Module({ providers: [{ provide: 'CONFIG', useValue: { timeout: 5432 } }], exports: ['CONFIG'] })(ConfigModule)
    const built: unknown[] = []
    class ShutdownConfig implements GracefulOptionsFactory {
      constructor (private readonly config: { timeout: number }) { built.push(this) }
      createGracefulOptions () { return { ...inProcess, timeout: this.config.timeout } }
    }
    Inject('CONFIG')(ShutdownConfig, undefined, 0)
    Injectable()(ShutdownConfig)
    class AppModule {}
    Module({ imports: [GracefulModule.forRootAsync({ imports: [ConfigModule], useClass: ShutdownConfig })] })(AppModule)
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, abortOnError: false })
    afterTest(() => app.close())
    expect(app.get<Graceful>(GRACEFUL).options.timeout).toBe(5432)
    expect(built).toHaveLength(1)
  })

  it('forRootAsync({ useExisting }): the provider an imported module exports is used, not built again; a bad one fails the app creation', async () => {
    const shared = { calls: 0, createGracefulOptions (): GracefulModuleOptions | Promise<GracefulModuleOptions> { this.calls++; return Promise.resolve({ ...inProcess, timeout: 6543 }) } }
    class SharedModule {}
    Module({ providers: [{ provide: 'SHUTDOWN_CONFIG', useValue: shared }], exports: ['SHUTDOWN_CONFIG'] })(SharedModule)
    const create = async () => {
      class AppModule {}
      Module({ imports: [SharedModule, GracefulModule.forRootAsync({ imports: [SharedModule], useExisting: 'SHUTDOWN_CONFIG' })], providers: [{ provide: 'seen', useFactory: (config: unknown) => config, inject: ['SHUTDOWN_CONFIG'] }] })(AppModule)
      return NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, abortOnError: false })
    }
    const app = await create()
    expect(app.get<Graceful>(GRACEFUL).options.timeout).toBe(6543)
    expect(app.get('seen')).toBe(shared)
    expect(shared.calls).toBe(1)
    await app.close()
    shared.createGracefulOptions = () => ({ ...inProcess, timeout: -1 })
    await expect(create()).rejects.toMatchObject({ option: 'timeout' })
    Object.assign(shared, { createGracefulOptions: undefined })
    await expect(create()).rejects.toMatchObject({ option: 'useExisting', message: expect.stringContaining('createGracefulOptions()') as unknown })
  })

  it('forRootAsync() takes options from a factory with injected dependencies; a bad one fails the app creation', async () => {
    class ConfigModule {}
    Module({ providers: [{ provide: 'CONFIG', useValue: { timeout: 4321 } }], exports: ['CONFIG'] })(ConfigModule)
    const create = async (useFactory: (config: { timeout: number }) => GracefulModuleOptions) => {
      class AppModule {}
      Module({ imports: [GracefulModule.forRootAsync({ imports: [ConfigModule], inject: ['CONFIG'], useFactory })] })(AppModule)
      return NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, abortOnError: false })
    }
    const app = await create((config) => ({ ...inProcess, timeout: config.timeout }))
    expect(app.get<Graceful>(GRACEFUL).options.timeout).toBe(4321)
    await app.close()
    await expect(create(() => ({ ...inProcess, readinessDelay: -5 }))).rejects.toMatchObject({ option: 'readinessDelay' })
  })

  it('a standalone application context (a worker, no HTTP): tracked work drains first, then Nest\'s hooks, once', async () => {
    const events: string[] = []
    class WorkerModule {}
    Module({
      imports: [GracefulModule.forRoot({ ...inProcess, logger: false })],
      providers: [{ provide: 'recorder', useFactory: () => ({ onModuleDestroy: () => { events.push('onModuleDestroy') } }) }],
    })(WorkerModule)
    const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false, abortOnError: false })
    expect(enableGracefulShutdown(app)).toBe(app)
    expect(enableGracefulShutdown(app)).toBe(app)
    await app.init()
    const graceful = app.get<Graceful>(GRACEFUL)
    const job = deferred()
    void graceful.track(job.promise.then(() => { events.push('job done') }), { name: 'job' })
    const closing = app.close()
    await vi.waitFor(() => expect(graceful.signal.aborted, 'the drain to start').toBe(true), patience)
    expect(events).toEqual([])
    job.resolve()
    await within(closing, 5000, 'app.close()')
    await app.close()
    expect(events).toEqual(['job done', 'onModuleDestroy'])
  })
})
