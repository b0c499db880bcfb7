'use strict'
const express = require('express')
const { graceful } = require('@graceful/express')
const { drainOneRequest, holder } = require('./drain.js')

test('@graceful/express: require() gives the CommonJS build', () => {
  expect(require.resolve('@graceful/express')).toMatch(/dist[/\\]index\.cjs$/)
})

test('@graceful/express: middleware + g.listen drains one request and shuts down', async () => {
  const app = express()
  const g = graceful({ timeout: 5_000 })
  app.use(g)
  const held = holder()
  app.get('/', (req, res) => { void held.hold().then(() => res.send('hello')) })
  const server = await new Promise((resolve) => { const s = g.listen(app, 0, '127.0.0.1', () => resolve(s)) })
  await drainOneRequest({ port: server.address().port, core: g.graceful, shutdown: () => g.shutdown(), held, server: () => server })
})
