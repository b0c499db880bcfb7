// stoppable: server.stop(), the user owns the signal handler and the exit.
import http from 'node:http'
import stoppable from 'stoppable'
import { app, env, listen } from './app.js'

const server = stoppable(http.createServer(app), env.timeout)
process.once('SIGTERM', () => {
  server.stop((error) => process.exit(error ? 1 : 0))
})
listen(server)
