'use strict'
const http = require('node:http')
const { createGraceful, isGracefulError } = require('@graceful/core')
const { drainOneRequest, holder } = require('./drain.js')

test('@graceful/core: require() gives the CommonJS build', () => {
  expect(require.resolve('@graceful/core')).toMatch(/dist[/\\]index\.cjs$/)
  expect(() => createGraceful({ timeout: -1 })).toThrow(TypeError)
  expect(isGracefulError(new Error('x'))).toBe(false)
})

test('@graceful/core: a plain node:http server drains one request and shuts down', async () => {
  const g = createGraceful({ timeout: 5_000 })
  const held = holder()
  const server = http.createServer(g.handler((req, res) => { void held.hold().then(() => res.end('hello')) }))
  g.attach(server)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  await drainOneRequest({ port: server.address().port, core: g, shutdown: () => g.shutdown(), held, server: () => server })
})
