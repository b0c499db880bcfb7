// One node:http server around the bench's Express or Koa app (APP=express|koa),
// with one alternative library (LIB=bare|terminus|http-terminator|stoppable|
// http-graceful-shutdown) wired as its README shows, exactly as the node:http
// servers beside this file do.
import http from 'node:http'
import { createTerminus } from '@godaddy/terminus'
import gracefulShutdown from 'http-graceful-shutdown'
import { createHttpTerminator } from 'http-terminator'
import stoppable from 'stoppable'
import { env, listen } from './app.js'
import { expressApp } from './express-app.js'
import { koaApp } from './koa-app.js'

const koa = process.env.APP === 'koa' ? koaApp().callback() : null
const handler: http.RequestListener = koa ? (req, res) => { void koa(req, res) } : expressApp()
const lib = process.env.LIB ?? 'bare'
const server = http.createServer(handler)

switch (lib) {
  case 'bare':
    break
  case 'terminus':
    createTerminus(server, { signals: ['SIGTERM', 'SIGINT'], timeout: env.timeout, healthChecks: { '/readyz': async () => 'ok' }, useExit0: true })
    break
  case 'http-terminator': {
    const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: env.timeout })
    process.once('SIGTERM', () => { terminator.terminate().then(() => process.exit(0), () => process.exit(1)) })
    break
  }
  case 'stoppable': {
    const stoppableServer = stoppable(server, env.timeout)
    process.once('SIGTERM', () => { stoppableServer.stop((error) => process.exit(error ? 1 : 0)) })
    break
  }
  case 'http-graceful-shutdown':
    gracefulShutdown(server, { signals: 'SIGINT SIGTERM', timeout: env.timeout, forceExit: true })
    break
  default:
    throw new Error(`LIB=${lib}: unknown`)
}
listen(server)
