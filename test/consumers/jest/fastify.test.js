'use strict'
const Fastify = require('fastify')
const graceful = require('@graceful/fastify')
const { drainOneRequest, holder } = require('./drain.js')

test('@graceful/fastify: require() gives the CommonJS build, usable as the plugin itself', () => {
  expect(require.resolve('@graceful/fastify')).toMatch(/dist[/\\]index\.cjs$/)
  expect(graceful.default).toBe(graceful.fastifyGraceful)
})

test('@graceful/fastify: app.register(require(...)) drains one request and shuts down', async () => {
  const app = Fastify()
  await app.register(graceful, { timeout: 5_000 })
  const held = holder()
  app.get('/', async () => { await held.hold(); return 'hello' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  await drainOneRequest({ port: app.server.address().port, core: app.graceful, shutdown: () => app.graceful.shutdown(), held, server: () => app.server })
})
