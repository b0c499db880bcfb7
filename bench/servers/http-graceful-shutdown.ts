// http-graceful-shutdown: one call, it owns the signals and the exit.
import http from 'node:http'
import gracefulShutdown from 'http-graceful-shutdown'
import { app, env, listen } from './app.js'

const server = http.createServer(app)
gracefulShutdown(server, { signals: 'SIGINT SIGTERM', timeout: env.timeout, forceExit: true })
listen(server)
