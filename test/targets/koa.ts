import { PassThrough } from 'node:stream'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { graceful } from '@graceful/koa'
import { serverApp } from '../helpers/server-app.js'
import { serveWebSockets } from '@graceful/test-kit'
import type { AppSpec, RunningApp, Target } from '../helpers/target.js'

// Both majors serve the same app; it uses only the API they share, so one set
// of typings (Koa 3's) describes both.
type KoaClass = typeof Koa3

/** The Koa integration as a user writes it: `app.use(g)` first, routes after, `g.listen(app, …)`. */
function koaTarget (name: string, Koa: KoaClass): Target {
  return {
    name,
    async start (spec: AppSpec): Promise<RunningApp> {
      const g = graceful(spec.options)
      const errors: unknown[] = []

      const app = new Koa()
      // With a listener, Koa's default handler still answers 500 but no longer logs.
      app.on('error', (error: unknown) => errors.push(error))
      app.use(g)
      app.use(async (ctx) => {
        switch (ctx.path) {
          case '/fast':
            ctx.body = 'fast'
            return
          case '/slow':
            await (spec.slow?.() ?? Promise.resolve())
            ctx.body = 'slow'
            return
          case '/stream': {
            const body = new PassThrough()
            body.write('start\n')
            void (spec.stream?.() ?? Promise.resolve()).then(() => body.end('end\n'), (error: unknown) => body.destroy(error as Error))
            ctx.type = 'text/plain'
            ctx.body = body
            return
          }
          case '/events': {
            // Koa pipes the body into the response: the body stream is what the drain ends.
            const body = new PassThrough()
            body.write('data: hello\n\n')
            g.graceful.stream(body, { sse: true })
            ctx.type = 'text/event-stream'
            ctx.set('cache-control', 'no-cache')
            ctx.body = body
            return
          }
          case '/fail-later':
            await (spec.slow?.() ?? Promise.resolve())
            throw new Error('late')
          case '/boom':
            throw new Error('boom')
        }
      })

      const server = g.listen(app, 0, '127.0.0.1')
      const wss = spec.websockets ? serveWebSockets(g.graceful, server) : undefined
      return serverApp(server, { graceful: g.graceful, errors, wss, close: async () => { await g.shutdown() } })
    },
  }
}

export const koa2Target: Target = koaTarget('koa@2', Koa2 as unknown as KoaClass)
export const koa3Target: Target = koaTarget('koa@3', Koa3)
