'use strict'
const Koa = require('koa')
const { graceful } = require('@graceful/koa')
const { drainOneRequest, holder } = require('./drain.js')

test('@graceful/koa: require() gives the CommonJS build', () => {
  expect(require.resolve('@graceful/koa')).toMatch(/dist[/\\]index\.cjs$/)
})

test('@graceful/koa: middleware + g.listen drains one request and shuts down', async () => {
  const app = new Koa()
  const g = graceful({ timeout: 5_000 })
  app.use(g)
  const held = holder()
  app.use(async (ctx) => { await held.hold(); ctx.body = 'hello' })
  const server = await new Promise((resolve) => { const s = g.listen(app, 0, '127.0.0.1', () => resolve(s)) })
  await drainOneRequest({ port: server.address().port, core: g.graceful, shutdown: () => g.shutdown(), held, server: () => server })
})
