// @graceful/core on a plain node:http server; GRACEFUL=0 is the bare baseline
// every node:http library of the bench is compared with.
import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import { channels, createGraceful } from '@graceful/core'
import { app, env, listen } from './app.js'

// BENCH_SUBSCRIBE=1: a subscriber on every graceful channel, as an APM would
// attach one, to show that nothing is published per request.
const seen: unknown[] = []
if (process.env.BENCH_SUBSCRIBE === '1') for (const name of Object.values(channels)) diagnostics.subscribe(name, (message) => seen.push(message))

if (env.graceful) {
  const graceful = createGraceful({ timeout: env.timeout, readinessDelay: env.readinessDelay })
  const server = http.createServer(graceful.handler(app))
  graceful.attach(server)
  listen(server)
} else {
  listen(http.createServer(app))
}
