// A TypeScript CommonJS app (`module: node16`: tsc compiles these imports to `require()`,
// and refuses an ESM-only package with TS1479). Compiled and run by test/consumers.test.ts:
// each package answers a readiness probe, then shuts down cleanly. Prints one JSON line.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { createGraceful, type ShutdownSummary } from '@graceful/core'
import graceful from '@graceful/fastify'
import { graceful as expressGraceful } from '@graceful/express'
import { graceful as koaGraceful } from '@graceful/koa'
import { all } from './exports.generated'

function status (server: http.Server, path: string): Promise<number | undefined> {
  const { port } = server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    }).on('error', reject)
  })
}

function listening (server: http.Server): Promise<http.Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

async function probeAndStop (server: http.Server, shutdown: () => Promise<ShutdownSummary>): Promise<[number | undefined, string]> {
  const ready = await status(server, '/readyz')
  return [ready, (await shutdown()).outcome]
}

async function main (): Promise<void> {
  const core = createGraceful({ timeout: 5_000 })
  const server = http.createServer(core.handler((req, res) => { res.end('hello') }))
  core.attach(server)
  const coreResult = await probeAndStop(await listening(server), () => core.shutdown())

  const fastify = Fastify()
  await fastify.register(graceful, { timeout: 5_000 })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const fastifyResult = await probeAndStop(fastify.server, () => fastify.graceful.shutdown())

  const e = expressGraceful({ timeout: 5_000 })
  const expressApp = express()
  expressApp.use(e)
  const expressServer = await new Promise<http.Server>((resolve) => { const s = e.listen(expressApp, 0, '127.0.0.1', () => resolve(s)) })
  const expressResult = await probeAndStop(expressServer, () => e.shutdown())

  const k = koaGraceful({ timeout: 5_000 })
  const koaApp = new Koa()
  koaApp.use(k)
  const koaServer = await new Promise<http.Server>((resolve) => { const s = k.listen(koaApp, 0, '127.0.0.1', () => resolve(s)) })
  const koaResult = await probeAndStop(koaServer, () => k.shutdown())

  console.log(JSON.stringify({
    resolved: require.resolve('@graceful/core'),
    modules: all.length,
    core: coreResult,
    fastify: fastifyResult,
    express: expressResult,
    koa: koaResult,
  }))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
