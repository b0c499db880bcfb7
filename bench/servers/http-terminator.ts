// http-terminator: the user owns the signal handler and the exit.
import http from 'node:http'
import { createHttpTerminator } from 'http-terminator'
import { app, env, listen } from './app.js'

const server = http.createServer(app)
const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: env.timeout })
process.once('SIGTERM', () => {
  terminator.terminate().then(() => process.exit(0), () => process.exit(1))
})
listen(server)
