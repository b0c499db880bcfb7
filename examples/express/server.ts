// An Express 5 service with @graceful/express. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// `PORT=0` picks a free port (printed as `listening <port>`, the only line on stdout);
// `HOST` defaults to every interface. `GRACEFUL=0` runs the same app without the
// middleware: bare Express, where SIGTERM kills the process at once.
import express, { type ErrorRequestHandler } from 'express'
import { graceful, type GracefulOptions, type Logger } from '@graceful/express'
import { exampleEnvironment } from '../env.js'
import { routes } from './routes.js'

const { port, host, graceful: withGraceful, reload } = exampleEnvironment()

// `timeout` and `readinessDelay` come from GRACEFUL_TIMEOUT and
// GRACEFUL_READINESS_DELAY, which graceful reads itself (a bad value fails with
// its own error naming the variable, before anything listens). Options given
// here would win over them.
const options: GracefulOptions = {}
// RELOAD=1: SIGHUP starts a new copy on the same socket, then this one drains (see @graceful/core's README).
if (reload) options.reload = reload

/** JSON lines on stderr: stdout carries only the `listening <port>` line. */
const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, message, ...fields })}\n`)
}
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') }

const g = withGraceful ? graceful({ ...options, logger }) : null
const app = express()
app.disable('x-powered-by')

if (g) {
  // The health endpoints (the draining 503s are answered at the server, wherever g is mounted).
  app.use(g)
} else {
  // Without graceful a service still has health routes; they just never change.
  app.get(['/livez', '/readyz'], (_req, res) => { res.json({ status: 'ok' }) })
}

// The service's own routes (routes.ts): nothing in them knows about graceful.
routes(app)

const onError: ErrorRequestHandler = (error, req, res, next) => {
  logger.error({ err: String(error), method: req.method, url: req.originalUrl }, 'request failed')
  if (res.headersSent) return next(error)
  res.status(500).type('text/plain').send('internal error\n')
}
app.use(onError)

const onListening = (error?: Error) => {
  if (error) throw error
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
}
// g.listen() is app.listen() plus g.attach(server).
const server = g
  ? g.listen(app, port, host, onListening)
  : host === undefined ? app.listen(port, onListening) : app.listen(port, host, onListening)
