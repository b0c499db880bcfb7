import type { Server } from 'node:http'
import type { Http2SecureServer } from 'node:http2'
import { describe, expectTypeOf, it } from 'vitest'
import { adapterView, createAdapterGraceful, type AdapterView, type GateDecision } from './adapter.js'
import { channels, createGraceful, type Graceful, type GracefulOptions, type ShutdownSummary, type Stats } from './index.js'
import type * as Core from './index.js'

describe('public types', () => {
  it('createGraceful returns the handle', () => {
    const g = createGraceful({ timeout: 5000, signals: ['SIGTERM'], health: { readiness: '/ready', checks: { db: async () => true } } })
    expectTypeOf(g).toEqualTypeOf<Graceful>()
    expectTypeOf(g.shutdown()).toEqualTypeOf<Promise<ShutdownSummary>>()
    expectTypeOf(g.stats()).toEqualTypeOf<Stats>()
    expectTypeOf(g.signal).toEqualTypeOf<AbortSignal>()
    expectTypeOf(g.state).toEqualTypeOf<'accepting' | 'draining' | 'closed'>()
  })

  it('pauses and resumes; health port, control surface and channels are typed', () => {
    const g = createGraceful({ health: { port: 9000, host: '0.0.0.0' }, control: { token: 'x'.repeat(32), port: 9001 } })
    expectTypeOf(g.pause).toEqualTypeOf<(reason?: string) => boolean>()
    expectTypeOf(g.resume).toEqualTypeOf<() => boolean>()
    expectTypeOf(g.stats().paused).toEqualTypeOf<Core.PauseInfo | null>()
    g.on('paused', (info) => { expectTypeOf(info.reason).toEqualTypeOf<string | null>() })
    g.on('resumed', (info) => { expectTypeOf(info.pausedMs).toEqualTypeOf<number>() })
    expectTypeOf(channels.draining).toEqualTypeOf<'graceful:draining'>()
    expectTypeOf<Core.ChannelMessage<'closed'>['graceful']>().toEqualTypeOf<Graceful>()
    expectTypeOf<Core.ChannelMessage<'closed'>['outcome']>().toEqualTypeOf<ShutdownSummary['outcome']>()
    // @ts-expect-error the control surface needs a token
    createGraceful({ control: { port: 9001 } })
  })

  it('attaches http and http2 servers', () => {
    const g = createGraceful()
    expectTypeOf(g.attach).toBeCallableWith({} as Server)
    expectTypeOf(g.attach).toBeCallableWith({} as Http2SecureServer)
  })

  it('accepts functions, closables and disposables as release hooks', () => {
    const g = createGraceful()
    g.onClose(async (signal) => { expectTypeOf(signal).toEqualTypeOf<AbortSignal>() })
    g.onClose({ close: () => Promise.resolve() }, { name: 'db', timeout: 500 })
    g.onClose({ [Symbol.asyncDispose]: async () => {} })
    // @ts-expect-error a number is not a release hook
    g.onClose(42)
  })

  it('types track() results and event payloads', () => {
    const g = createGraceful()
    expectTypeOf(g.track(Promise.resolve(1))).toEqualTypeOf<Promise<number>>()
    expectTypeOf(g.track(({ signal }) => signal.aborted)).toEqualTypeOf<Promise<boolean>>()
    g.on('timeout', (info) => { expectTypeOf(info.holding).toEqualTypeOf<string[]>() })
    g.on('closed', (summary) => { expectTypeOf(summary).toEqualTypeOf<ShutdownSummary>() })
    // @ts-expect-error unknown event
    g.on('nope', () => {})
  })

  it('rejects unknown option keys at compile time too', () => {
    // @ts-expect-error misspelled option
    const options: GracefulOptions = { timout: 1 }
    expectTypeOf(options).toEqualTypeOf<GracefulOptions>()
  })

  it('takes the loggers users have: pino-shaped, console, a NestJS Logger, or false', () => {
    // As @nestjs/common declares its Logger: (message: any, context?: string), error with a stack.
    /* eslint-disable @typescript-eslint/no-explicit-any */
    class NestLogger {
      log (_message: any, _context?: string): void {}
      error (_message: any, _stack?: string, _context?: string): void {}
      warn (_message: any, _context?: string): void {}
      debug (_message: any, _context?: string): void {}
      verbose (_message: any, _context?: string): void {}
    }
    /* eslint-enable @typescript-eslint/no-explicit-any */
    expectTypeOf(new NestLogger()).toMatchTypeOf<NonNullable<GracefulOptions['logger']>>()
    expectTypeOf(console).toMatchTypeOf<NonNullable<GracefulOptions['logger']>>()
    expectTypeOf(false as const).toMatchTypeOf<NonNullable<GracefulOptions['logger']>>()
    // @ts-expect-error a string is not a logger
    const wrong: GracefulOptions = { logger: 'pino' }
    expectTypeOf(wrong).toEqualTypeOf<GracefulOptions>()
  })

  it('the user handle has only what a user calls; adapters reach the rest through @graceful/core/adapter', () => {
    const g = createGraceful()
    expectTypeOf(g.readiness()).toEqualTypeOf<Promise<{ statusCode: 200 | 503, body: string, headers: Record<string, string> }>>()
    expectTypeOf<Extract<keyof Graceful, 'gate' | 'reject' | 'rejection' | 'rejectionFor' | 'matchHealth' | 'liveness' | 'attached' | 'attachExternal'>>().toEqualTypeOf<never>()
    const view = adapterView(g)
    expectTypeOf(view).toEqualTypeOf<AdapterView>()
    expectTypeOf(view.graceful).toEqualTypeOf<Graceful>()
    expectTypeOf(view.gate({} as never, {} as never)).toEqualTypeOf<GateDecision>()
    expectTypeOf(createAdapterGraceful({ timeout: 1000 }, { extraKeys: ['prefix'] })).toEqualTypeOf<AdapterView>()
    // @ts-expect-error adapter-only: not exported from @graceful/core
    type Resolve = typeof Core.resolveOptions
    // @ts-expect-error adapter-only: not exported from @graceful/core
    type Forced = typeof Core.forcedExitCode
    // @ts-expect-error adapter-only: not exported from @graceful/core
    type Middleware = typeof Core.createMiddlewareAdapter
    expectTypeOf<[Resolve, Forced, Middleware]>().not.toBeNever()
  })
})
