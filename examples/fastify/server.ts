// A Fastify 5 service with @graceful/fastify. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// `PORT=0` picks a free port (printed as `listening <port>`, the only line on stdout);
// `HOST` defaults to 0.0.0.0. `GRACEFUL=0` runs the same app without the plugin:
// bare Fastify, where SIGTERM kills the process at once.
import Fastify, { LogController } from 'fastify'
import graceful, { type FastifyGracefulOptions } from '@graceful/fastify'
import { exampleEnvironment } from '../env.js'
import { routes } from './routes.js'

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

// The service's own routes (routes.ts): nothing in them knows about graceful.
routes(app)

await app.listen({ port, host })
const address = app.server.address()
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
