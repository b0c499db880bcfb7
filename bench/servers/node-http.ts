// @graceful/core on a plain node:http server; GRACEFUL=0 is the bare baseline
// every node:http library of the bench is compared with.
import http from 'node:http'
import { createGraceful } from '@graceful/core'
import { app, env, listen } from './app.js'

if (env.graceful) {
  const graceful = createGraceful({ timeout: env.timeout, readinessDelay: env.readinessDelay })
  const server = http.createServer(graceful.handler(app))
  graceful.attach(server)
  listen(server)
} else {
  listen(http.createServer(app))
}
