import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import { Controller, Get, Module, Res, StreamableFile, type ArgumentsHost, type INestApplication, type Provider } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { enableGracefulShutdown, GRACEFUL, GracefulModule, type Graceful, type GracefulModuleOptions } from '@graceful/nestjs'
import type { AppSpec, RunningApp } from '../helpers/target.js'
import { serveWebSockets } from '@graceful/test-kit'

export type NestPlatform = 'express' | 'fastify'

export interface NestAppSpec extends Omit<AppSpec, 'options'> {
  options?: GracefulModuleOptions
  /** More providers for the root module (lifecycle recorders, services injecting the handle). */
  providers?: Provider[]
  /** Skip `enableGracefulShutdown(app)`, or call `app.enableShutdownHooks()` first. */
  setup?: 'none' | 'graceful' | 'shutdown-hooks-first'
  /** Runs before `app.listen()`, as code in main.ts would (`app.use(…)`, platform hooks). */
  beforeListen?: (app: INestApplication) => void
}

export interface NestApp extends RunningApp {
  app: INestApplication
}

/** The raw node response under an Express response or a Fastify reply. */
type PlatformResponse = { raw?: ServerResponse, headersSent?: boolean, type: (type: string) => PlatformResponse, send: (body: string) => unknown }
const rawOf = (res: PlatformResponse): ServerResponse => res.raw ?? (res as unknown as ServerResponse)

/**
 * A Nest app as a user writes it, on either platform: `GracefulModule.forRoot()`
 * in the root module, a controller, a global exception filter, and
 * `enableGracefulShutdown(app)` in main. Decorators are applied as functions
 * (as `tsc` emits them): the repository compiles without `experimentalDecorators`.
 */
export async function startNestApp (platform: NestPlatform, spec: NestAppSpec = {}): Promise<NestApp> {
  const errors: unknown[] = []
  let closeHookRuns = 0
  // The core handle, as a provider would inject it (GRACEFUL); set once the app is created.
  const injected: { graceful?: Graceful } = {}
  const notify = (msg: string, fields: Record<string, unknown>) => {
    // In a forked child (test/fixtures/serve.ts) the parent sees Nest's hooks as log lines.
    process.send?.({ type: 'log', level: 'info', msg, fields })
  }

  class RoutesController {
    fast (res: PlatformResponse) {
      res.type('text/plain').send('fast')
    }

    async slow (res: PlatformResponse) {
      await (spec.slow?.() ?? Promise.resolve())
      // A request cut at the deadline was already answered (503): do not write twice.
      if (!rawOf(res).headersSent) res.type('text/plain').send('slow')
    }

    stream () {
      const body = new PassThrough()
      body.write('start\n')
      void (spec.stream?.() ?? Promise.resolve()).then(() => body.end('end\n'), (error: unknown) => body.destroy(error as Error))
      return new StreamableFile(body, { type: 'text/plain' })
    }

    events () {
      // Either platform pipes the body into the response: the body stream is what the drain ends.
      const body = new PassThrough()
      body.write('data: hello\n\n')
      injected.graceful?.stream(body, { sse: true })
      return new StreamableFile(body, { type: 'text/event-stream' })
    }

    boom () {
      throw new Error('boom')
    }

    async failLater () {
      await (spec.slow?.() ?? Promise.resolve())
      throw new Error('late')
    }
  }
  Controller()(RoutesController)
  for (const [name, withRes, path] of [['fast', true, 'fast'], ['slow', true, 'slow'], ['stream', false, 'stream'], ['events', false, 'events'], ['boom', false, 'boom'], ['failLater', false, 'fail-later']] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(RoutesController.prototype, name) as PropertyDescriptor
    if (withRes) Res()(RoutesController.prototype, name, 0)
    Get(path)(RoutesController.prototype, name, descriptor)
  }

  const shutdownHooks: Provider = {
    provide: 'nest-shutdown-hooks',
    useFactory: () => ({
      onModuleDestroy: () => { notify('nest: onModuleDestroy', {}) },
      beforeApplicationShutdown: (signal?: string) => { notify('nest: beforeApplicationShutdown', { signal }) },
      onApplicationShutdown: (signal?: string) => {
        closeHookRuns++
        notify('nest: onApplicationShutdown', { signal })
      },
    }),
  }
  class AppModule {}
  Module({
    imports: [GracefulModule.forRoot(spec.options ?? {})],
    controllers: [RoutesController],
    providers: [shutdownHooks, ...(spec.providers ?? [])],
  })(AppModule)

  const options = { logger: false, abortOnError: false } as const
  const app: INestApplication = platform === 'express'
    ? await NestFactory.create(AppModule, new ExpressAdapter(), options)
    : await NestFactory.create(AppModule, new FastifyAdapter(), options)
  const adapter = app.getHttpAdapter()
  app.useGlobalFilters({
    catch (error: unknown, host: ArgumentsHost) {
      errors.push(error)
      const res = host.switchToHttp().getResponse<PlatformResponse>()
      if (rawOf(res).headersSent) return rawOf(res).destroy()
      // Nest's own HttpExceptions (a 404 for an unknown route) keep their status.
      const status = (error as { getStatus?: () => number }).getStatus?.() ?? 500
      adapter.reply(res, 'error', status)
    },
  })
  const setup = spec.setup ?? 'graceful'
  if (setup === 'shutdown-hooks-first') app.enableShutdownHooks()
  if (setup !== 'none') enableGracefulShutdown(app)
  spec.beforeListen?.(app)
  const graceful = injected.graceful = app.get<Graceful>(GRACEFUL)
  await app.listen(0, '127.0.0.1')
  const wss = spec.websockets ? serveWebSockets(graceful, app.getHttpServer()) : undefined

  return {
    app,
    port: (app.getHttpServer().address() as AddressInfo).port,
    graceful,
    wss,
    errors,
    close: () => app.close(),
    closeHookRuns: () => closeHookRuns,
    [Symbol.asyncDispose]: async () => {
      // Skip whatever is left of a shutdown, then let Nest run its close (once).
      await graceful.force('dispose')
      await app.close()
    },
  }
}
