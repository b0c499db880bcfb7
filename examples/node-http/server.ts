// A plain node:http service with graceful. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// `HOST` defaults to every interface. `GRACEFUL=0` runs the same routes without graceful (Node's default: SIGTERM kills at once).
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { createGraceful, type Logger } from '@graceful/core'
import { exampleEnvironment } from '../env.js'

const env = exampleEnvironment()

const maxSlowMs = 60_000

/** The application: a fast route and a slow one. */
function app (req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname === '/') {
    send(res, 200, 'hello\n')
  } else if (url.pathname === '/slow') {
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 100) || 0, 0), maxSlowMs)
    setTimeout(() => send(res, 200, `slow ${ms}\n`), ms)
  } else {
    send(res, 404, 'not found\n')
  }
}

/** Without graceful, a service still has health routes; they just never change. */
function bare (req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/livez' || path === '/readyz') return send(res, 200, '{"status":"ok"}')
  app(req, res)
}

function send (res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** JSON lines on stderr: stdout carries only the `listening <port>` line. */
const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, message, ...fields })}\n`)
}
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') }

// Under cluster.ts the primary owns the lifecycle: it sends each worker one
// SIGTERM. Ctrl-C in a terminal sends SIGINT to the whole process group, workers
// included; counted as a first signal here, the primary's SIGTERM would then be a
// second one and force the exit. So a worker ignores SIGINT and drains on SIGTERM.
const clusterWorker = process.env.CLUSTER_WORKER === '1'
if (clusterWorker) process.on('SIGINT', () => {})

let server: http.Server
if (env.graceful) {
  const graceful = createGraceful({ ...(env.reload ? { reload: env.reload } : {}), logger, ...(clusterWorker ? { signals: ['SIGTERM'] as const } : {}) })
  server = http.createServer(graceful.handler(app))
  graceful.attach(server)
} else {
  server = http.createServer(bare)
}

server.listen(env.port, env.host, () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
})
