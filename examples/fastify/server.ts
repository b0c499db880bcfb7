// A Fastify 5 service with @graceful/fastify. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// `PORT=0` picks a free port (printed as `listening <port>`, the only line on stdout);
// `HOST` defaults to 0.0.0.0. `GRACEFUL=0` runs the same app without the plugin:
// bare Fastify, where SIGTERM kills the process at once.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { LogController } from 'fastify'
import graceful, { type FastifyGracefulOptions } from '@graceful/fastify'
import { exampleEnvironment } from '../env.js'

const maxSlowMs = 60_000
const env = exampleEnvironment()

// `timeout` and `readinessDelay` come from GRACEFUL_TIMEOUT and
// GRACEFUL_READINESS_DELAY, which graceful reads itself (a bad value fails with
// its own error naming the variable, before anything listens). Options given
// here would win over them.
const options: FastifyGracefulOptions = {}
// RELOAD=1: SIGHUP starts a new copy on the same socket, then this one drains (see @graceful/core's README).
if (env.reload) options.reload = env.reload
const { port } = env
const host = env.host ?? '0.0.0.0'

const app = Fastify({
  // JSON lines on stderr (stdout carries only the `listening <port>` line); the
  // plugin logs through app.log. No per-request lines: they would dominate a benchmark.
  logger: { level: env.logLevel ?? 'info', stream: process.stderr },
  logController: new LogController({ disableRequestLogging: true }),
})

if (!env.graceful) {
  // Without graceful a service still has health routes; they just never change.
  app.get('/livez', async () => ({ status: 'ok' }))
  app.get('/readyz', async () => ({ status: 'ok' }))
} else {
  // Before the routes: the draining 503 is answered at the server; routes registered after it
  // that run onRequest hooks of their own also get the gate.
  await app.register(graceful, options)
}

app.get('/', async (_request, reply) => reply.type('text/plain').send('hello\n'))

// A route like yours: a JSON body parsed, ~1 ms of awaited work (a database call), JSON back.
app.post<{ Body: { items?: { qty: number, price: number }[] } }>('/order', async (request) => {
  const items = request.body.items ?? []
  await sleep(1)
  return { id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) }
})

app.get<{ Querystring: { ms?: string } }>('/slow', async (request, reply) => {
  const ms = Math.min(Math.max(Number(request.query.ms ?? 100) || 0, 0), maxSlowMs)
  await sleep(ms)
  return reply.type('text/plain').send(`slow ${ms}\n`)
})

await app.listen({ port, host })
const address = app.server.address()
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
