import express5 from 'express'
import express4 from 'express4'
import type { ErrorRequestHandler } from 'express'
import { graceful } from '@graceful/express'
import { serverApp } from '../helpers/server-app.js'
import { serveWebSockets } from '@graceful/test-kit'
import type { AppSpec, RunningApp, Target } from '../helpers/target.js'

// Both majors serve the same app; it uses only the API they share, so one set
// of typings (Express 5's) describes both.
type ExpressFactory = typeof express5

/** The Express integration as a user writes it: `app.use(g)` first, `g.listen(app, …)`, a 4-argument error handler. */
function expressTarget (name: string, express: ExpressFactory, major: 4 | 5): Target {
  return {
    name,
    async start (spec: AppSpec): Promise<RunningApp> {
      const g = graceful(spec.options)
      const errors: unknown[] = []

      const app = express()
      app.use(g)
      app.get('/fast', (_req, res) => {
        res.type('text/plain').send('fast')
      })
      // Express 4 does not forward promise rejections: pass them to next() by hand, in both.
      // A request cut at the deadline was already answered (503): do not write twice.
      app.get('/slow', (_req, res, next) => {
        const held = spec.slow?.() ?? Promise.resolve()
        held.then(() => {
          if (!res.headersSent) res.type('text/plain').send('slow')
        }).catch(next)
      })
      app.get('/stream', (_req, res, next) => {
        res.type('text/plain').status(200)
        res.write('start\n')
        const held = spec.stream?.() ?? Promise.resolve()
        held.then(() => res.end('end\n')).catch(next)
      })
      app.get('/events', (_req, res) => {
        res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        res.write('data: hello\n\n')
        g.graceful.stream(res)
      })
      app.get('/boom', () => {
        throw new Error('boom')
      })
      if (major === 5) {
        // Express 5 forwards the rejection of an async handler to the error handler.
        app.get('/fail-later', async () => {
          await (spec.slow?.() ?? Promise.resolve())
          throw new Error('late')
        })
      } else {
        app.get('/fail-later', (_req, _res, next) => {
          const held = spec.slow?.() ?? Promise.resolve()
          held.then(() => { throw new Error('late') }).catch(next)
        })
      }
      const onError: ErrorRequestHandler = (error, _req, res, next) => {
        errors.push(error)
        if (res.headersSent) return next(error)
        res.status(500).type('text/plain').send('error')
      }
      app.use(onError)

      const server = g.listen(app, 0, '127.0.0.1')
      const wss = spec.websockets ? serveWebSockets(g.graceful, server) : undefined
      return serverApp(server, { graceful: g.graceful, errors, wss, close: async () => { await g.shutdown() } })
    },
  }
}

export const express4Target: Target = expressTarget('express@4', express4 as unknown as ExpressFactory, 4)
export const express5Target: Target = expressTarget('express@5', express5, 5)
