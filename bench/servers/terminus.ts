// @godaddy/terminus as its README shows it: health check, SIGTERM handler, a timeout.
import http from 'node:http'
import { createTerminus } from '@godaddy/terminus'
import { app, env, listen } from './app.js'

const server = http.createServer(app)
createTerminus(server, {
  signals: ['SIGTERM', 'SIGINT'],
  timeout: env.timeout,
  healthChecks: { '/readyz': async () => 'ok' },
  // Exit 0 once stopped, instead of re-raising the signal.
  useExit0: true,
})
listen(server)
