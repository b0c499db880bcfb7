import http from 'node:http'
import { createGraceful } from '@graceful/core'
import { serverApp } from '../helpers/server-app.js'
import { serveWebSockets } from '@graceful/test-kit'
import type { AppSpec, RunningApp, Target } from '../helpers/target.js'

/** The plain `node:http` integration: `graceful.handler()` + `graceful.attach()`. */
export const nodeHttpTarget: Target = {
  name: 'node:http',
  async start (spec: AppSpec): Promise<RunningApp> {
    const graceful = createGraceful(spec.options)
    const errors: unknown[] = []

    const routes: http.RequestListener = (req, res) => {
      const fail = (error: unknown) => {
        errors.push(error)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('error')
      }
      try {
        switch (req.url) {
          case '/fast':
            res.end('fast')
            return
          case '/slow':
            void (spec.slow?.() ?? Promise.resolve()).then(() => res.end('slow'), fail)
            return
          case '/stream':
            res.writeHead(200, { 'content-type': 'text/plain' })
            res.write('start\n')
            void (spec.stream?.() ?? Promise.resolve()).then(() => res.end('end\n'), fail)
            return
          case '/events':
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
            res.write('data: hello\n\n')
            graceful.stream(res)
            return
          case '/fail-later':
            void (spec.slow?.() ?? Promise.resolve()).then(() => { throw new Error('late') }).catch(fail)
            return
          case '/boom':
            throw new Error('boom')
          default:
            res.writeHead(404).end('not found')
        }
      } catch (error) {
        fail(error)
      }
    }

    const server = http.createServer(graceful.handler(routes))
    graceful.attach(server)
    const wss = spec.websockets ? serveWebSockets(graceful, server) : undefined
    server.listen(0, '127.0.0.1')
    return serverApp(server, { graceful, errors, wss, close: async () => { await graceful.shutdown() } })
  },
}
