import { constants } from 'node:os'
import type { Server } from 'node:net'
import { createGraceful, ErrorCodes, type Graceful } from '@graceful/core'
import type { OnApplicationBootstrap, OnModuleInit } from '@nestjs/common'
import type { HttpAdapterHost } from '@nestjs/core'
import { registerHealthRoutes } from './health.js'
import { toCoreOptions, type GracefulModuleOptions } from './options.js'
import { attachServers } from './servers.js'

/** Where the bridge of an app is found from its `HttpAdapterHost` (a registered symbol: two copies of this package agree). */
export const bridgeKey = Symbol.for('graceful.nestjs.bridge')

/** The app's own `close(signal?)`, Nest's shutdown sequence: onModuleDestroy → beforeApplicationShutdown → dispose → onApplicationShutdown. */
export type CloseApp = (signal?: string) => Promise<void>

/**
 * One per Nest app: owns the core instance, wires it into the platform when
 * Nest initialises the module, and runs Nest's own shutdown sequence as the
 * last release hook once `enableGracefulShutdown(app)` linked the app.
 */
export interface Bridge extends OnModuleInit, OnApplicationBootstrap {
  readonly core: Graceful
  readonly linked: boolean
  /** Called by `enableGracefulShutdown(app)`. */
  link: (closeApp: CloseApp) => void
  /** What `app.close(signal?)` does once linked. */
  close: (signal?: string) => Promise<void>
}

export function createBridge (options: GracefulModuleOptions, host: HttpAdapterHost): Bridge {
  const core = createGraceful(toCoreOptions(options))
  let closeApp: CloseApp | undefined
  let nestClosed: Promise<void> | undefined
  // The argument Nest's hooks get (`onApplicationShutdown(signal)`): the signal
  // that started the shutdown, or what the user passed to `app.close(signal)`.
  let signal: string | undefined
  core.on('draining', ({ trigger }) => {
    if (trigger in constants.signals) signal ??= trigger
  })

  /** Nest's sequence, at most once. */
  function closeNest (): Promise<void> {
    if (!closeApp) return Promise.resolve()
    nestClosed ??= closeApp(signal)
    return nestClosed
  }

  // Registered first, so it runs last: release hooks run last registered first.
  // Hooks registered through the injected handle (`graceful.onClose(…)`) run
  // before Nest's own, like Fastify's `app.graceful.onClose` before its close.
  core.onClose(function nestClose () { return closeNest() }, { name: 'nest' })

  const bridge: Bridge = {
    core,
    get linked () { return closeApp !== undefined },
    link: (close) => { closeApp = close },
    close: async (closeSignal) => {
      // Release hooks are running (app.close() called from one, or after a
      // shutdown that skipped ours): the drain is over, close Nest now. Waiting
      // for the whole shutdown from inside one of its hooks would deadlock.
      if (core.state === 'closed') return closeNest()
      signal ??= closeSignal
      await core.shutdown(closeSignal ?? 'close')
    },
    onModuleInit () {
      const adapter = host.httpAdapter as typeof host.httpAdapter | undefined
      // An application context without HTTP (a worker): signals, tasks and hooks only.
      if (!adapter) return
      const platform = adapter.getType()
      const instance: unknown = adapter.getInstance()
      const server = adapter.getHttpServer() as Server | undefined
      if (server) attachServers(platform, instance, server, core)
      if (!registerHealthRoutes(platform, instance, core) && (core.options.health.liveness || core.options.health.readiness)) {
        core.options.logger?.warn({ platform }, `graceful: no health routes on the "${platform}" platform (Express and Fastify only)`)
      }
    },
    onApplicationBootstrap () {
      if (closeApp) return
      const message = 'graceful: enableGracefulShutdown(app) was not called, so on SIGTERM the drain runs ' +
        'but Nest\'s shutdown hooks (onModuleDestroy, beforeApplicationShutdown, onApplicationShutdown) do not, and ' +
        'app.close() does not drain. Call it right after NestFactory.create(), instead of app.enableShutdownHooks().'
      core.options.logger?.warn({ code: ErrorCodes.NOT_ATTACHED }, message)
    },
  }
  ;(host as unknown as Record<symbol, Bridge>)[bridgeKey] = bridge
  return bridge
}
