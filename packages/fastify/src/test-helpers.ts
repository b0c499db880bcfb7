// Test helpers for this package's tests; excluded from the build and the tarball.
// Gates, bounded waits and raw keep-alive connections are the shared ones in @graceful/test-kit.
import dns from 'node:dns'
import type { ServerResponse } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RawServerBase } from 'fastify'
import type { Graceful, GracefulEvents } from '@graceful/core'
import { deferred, type Deferred, within } from '@graceful/test-kit'
import graceful, { type FastifyGracefulOptions } from './index.js'

/** The next `event` of a graceful instance, bounded. */
export function nextEvent<E extends keyof GracefulEvents> (g: Graceful, event: E): Promise<GracefulEvents[E]> {
  return within(new Promise((resolve) => { g.once(event, (...args) => resolve(args)) }), 5000, `graceful event "${event}"`)
}

export interface TestApp extends AsyncDisposable {
  app: FastifyInstance<RawServerBase>
  port: number
  /** Errors Fastify's error handler saw. */
  errors: unknown[]
  /** How often the app's own onClose hook ran. */
  onCloseRuns: () => number
  /** Resolves once the server has received `count` requests in all (gated ones included). */
  received: (count: number) => Promise<void>
}

/**
 * A Fastify app with the plugin registered first (in-process: no signals, no
 * exit), `routes` added, listening on 127.0.0.1:0.
 */
export async function startApp (
  options: FastifyGracefulOptions = {},
  routes: (app: FastifyInstance<RawServerBase>) => void = () => {},
  server: FastifyServerOptions & { http2?: boolean } = {},
): Promise<TestApp> {
  const app = Fastify({ logger: false, ...server } as FastifyServerOptions) as unknown as FastifyInstance<RawServerBase>
  const errors: unknown[] = []
  let onCloseRuns = 0
  await app.register(graceful, { signals: false, exit: false, ...options })
  app.setErrorHandler(async (error, _request, reply) => {
    errors.push(error)
    return reply.code(500).type('text/plain').send('error')
  })
  app.addHook('onClose', async () => { onCloseRuns++ })
  routes(app)
  let requests = 0
  const waiting = new Set<() => void>()
  app.server.on('request', () => {
    requests++
    for (const wake of waiting) wake()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    app,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    errors,
    onCloseRuns: () => onCloseRuns,
    received: (count) => within(new Promise<void>((resolve) => {
      const wake = () => {
        if (requests < count) return
        waiting.delete(wake)
        resolve()
      }
      waiting.add(wake)
      wake()
    }), 5000, `${count} request(s) received`),
    [Symbol.asyncDispose]: async () => {
      await app.graceful.force('dispose')
      await within(app.close(), 5000, 'app.close() in teardown')
    },
  }
}

/**
 * `app.listen({ port: 0, host: 'localhost' })` with "localhost" resolving to
 * 127.0.0.1 and 127.0.0.2: Fastify listens once per address a name resolves
 * to (127.0.0.1 and ::1 on most machines, one address on some), so it binds
 * one secondary server, on 127.0.0.2.
 */
export async function listenOnTwoAddresses (app: { listen: (options: { port: number, host: string }) => Promise<unknown> }): Promise<void> {
  const original = dns.lookup
  const patched = function (hostname: string, options: unknown, callback: unknown) {
    if (hostname !== 'localhost') return (original as (...args: unknown[]) => unknown)(hostname, options, callback)
    const all = [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]
    const done = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void
    const wantsAll = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true
    process.nextTick(() => wantsAll ? done(null, all) : done(null, '127.0.0.1', 4))
  }
  dns.lookup = patched as typeof dns.lookup
  try {
    await app.listen({ port: 0, host: 'localhost' })
  } finally {
    dns.lookup = original
  }
}

export interface HeldRoutes {
  /** Holds `/slow` and `/boom-later`. */
  slow: Deferred
  /** Holds the end of `/stream`. */
  stream: Deferred
  /** `/fast`; `/slow` (200 `slow`) and `/boom-later` (throws) once `slow` resolves; `/stream` sends `start\n` at once, `end\n` once `stream` resolves. */
  routes: (app: FastifyInstance<RawServerBase>) => void
}

/** Routes whose requests stay in flight until the test opens their gate; pass `routes` to `startApp`. */
export function heldRoutes (): HeldRoutes {
  const slow = deferred()
  const stream = deferred()
  return {
    slow,
    stream,
    routes: (app) => {
      app.get('/fast', async () => 'fast')
      app.get('/slow', async () => { await slow.promise; return 'slow' })
      app.get('/boom-later', async () => {
        await slow.promise
        throw new Error('boom')
      })
      app.get('/stream', async (_request, reply) => {
        const raw = reply.raw as ServerResponse
        raw.writeHead(200, { 'content-type': 'text/plain' })
        raw.write('start\n')
        await stream.promise
        raw.end('end\n')
        return reply
      })
    },
  }
}

