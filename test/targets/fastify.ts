import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import Fastify from 'fastify'
import graceful from '@graceful/fastify'
import type { AppSpec, RunningApp, Target } from '../helpers/target.js'
import { serveWebSockets } from '@graceful/test-kit'

/** The Fastify integration as a user writes it: `app.register(graceful, options)` first, `app.close()` to stop. */
export const fastifyTarget: Target = {
  name: 'fastify',
  async start (spec: AppSpec): Promise<RunningApp> {
    const errors: unknown[] = []
    let closeHookRuns = 0

    const app = Fastify({ logger: false })
    await app.register(graceful, spec.options ?? {})

    app.get('/fast', async (_request, reply) => reply.type('text/plain').send('fast'))
    app.get('/slow', async (_request, reply) => {
      await (spec.slow?.() ?? Promise.resolve())
      return reply.type('text/plain').send('slow')
    })
    app.get('/stream', (_request, reply) => {
      // Fastify sends the headers and pipes: `start` goes out now, `end` when the test says so.
      const body = new PassThrough()
      body.write('start\n')
      void (spec.stream?.() ?? Promise.resolve()).then(() => body.end('end\n'), (error: unknown) => body.destroy(error as Error))
      return reply.type('text/plain').send(body)
    })
    app.get('/events', (_request, reply) => {
      // Fastify pipes the body into the response: the body stream is what the drain ends.
      const body = new PassThrough()
      body.write('data: hello\n\n')
      app.graceful.stream(body, { sse: true })
      return reply.type('text/event-stream').header('cache-control', 'no-cache').send(body)
    })
    app.get('/fail-later', async () => {
      await (spec.slow?.() ?? Promise.resolve())
      throw new Error('late')
    })
    app.get('/boom', async () => {
      throw new Error('boom')
    })
    app.setErrorHandler(async (error, _request, reply) => {
      errors.push(error)
      return reply.code(500).type('text/plain').send('error')
    })
    app.addHook('onClose', async () => { closeHookRuns++ })

    await app.listen({ port: 0, host: '127.0.0.1' })
    const wss = spec.websockets ? serveWebSockets(app.graceful, app.server) : undefined

    return {
      port: (app.server.address() as AddressInfo).port,
      graceful: app.graceful,
      errors,
      wss,
      close: () => app.close(),
      closeHookRuns: () => closeHookRuns,
      [Symbol.asyncDispose]: async () => {
        // Skip whatever is left of a shutdown, then let Fastify run its close (once).
        for (const client of wss?.clients ?? []) client.terminate()
        await app.graceful.force('dispose')
        await app.close()
      },
    }
  },
}
