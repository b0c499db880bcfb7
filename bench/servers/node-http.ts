// @graceful/core on a plain node:http server; GRACEFUL=0 is the bare baseline
// every node:http library of the bench is compared with (EXIT_AT_ONCE=1: one
// that calls process.exit() on SIGTERM).
import http from 'node:http'
import { createGraceful } from '@graceful/core'
import { app, env, listen } from './app.js'

if (env.graceful) {
  const graceful = createGraceful({ timeout: env.timeout, readinessDelay: env.readinessDelay })
  const server = http.createServer(graceful.handler(app))
  graceful.attach(server)
  listen(server)
} else {
  // The idle section's second floor: what any Node process that exits by itself on the signal pays.
  if (env.exitAtOnce) process.once('SIGTERM', () => process.exit(0))
  listen(http.createServer(app))
}
