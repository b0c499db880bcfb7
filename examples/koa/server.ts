// A Koa service with graceful. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// Then `kill -TERM <pid>` (or Ctrl-C): in-flight requests finish, then it exits.
// The environment (PORT, HOST, GRACEFUL=0, RELOAD=1, …) is every example's: see ../README.md.
import Koa from 'koa'
import { graceful, type Logger } from '@graceful/koa'
import { exampleEnvironment } from '../env.js'
import { routes } from './routes.js'

const { port, host, graceful: withGraceful, reload } = exampleEnvironment()

// JSON lines on stderr: stdout carries only the `listening <port>` line.
const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, message, ...fields })}\n`)
}
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') }

const app = new Koa()
app.on('error', (error: Error) => logger.error({ err: error.message }, 'request failed'))

const g = !withGraceful
  ? null
  : graceful({
    logger,
    // RELOAD=1: SIGHUP starts a new copy on the same socket, then this one drains (see @graceful/core's README).
    ...(reload ? { reload } : {}),
  })

if (g) {
  // /livez, /readyz (anywhere: the draining gate lives in the server).
  app.use(g)
  // Release hooks run after the last request, last registered first: close pools and clients here.
  g.onClose(() => logger.info({}, 'released the (pretend) database pool'), { name: 'db' })
} else {
  // Without graceful a service still has health routes; they just never change.
  app.use(async (ctx, next) => {
    if (ctx.path === '/livez' || ctx.path === '/readyz') ctx.body = { status: 'ok' }
    else await next()
  })
}

// The service's own routes (routes.ts): nothing in them knows about graceful.
app.use(routes)

const onListening = () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
}
const server = g ? g.listen(app, port, host, onListening) : app.listen(port, host, onListening)
