// A TypeScript ESM app as a user writes it, typechecked (not run) against the packed
// packages twice: `module: nodenext` and `moduleResolution: bundler`.
import http from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { createGraceful, ExitCodes, isGracefulError, type Graceful, type ShutdownSummary } from '@graceful/core'
import graceful, { fastifyGraceful } from '@graceful/fastify'
import { graceful as expressGraceful } from '@graceful/express'
import { graceful as koaGraceful } from '@graceful/koa'
import { all } from './exports.generated.js'

const core: Graceful = createGraceful({ timeout: 10_000, readinessDelay: 0 })
core.attach(http.createServer(core.handler((req, res) => { res.end('hello') })))
core.onClose(() => undefined, { name: 'db' })

const fastify = Fastify()
await fastify.register(graceful, { timeout: 10_000 })
await fastify.register(fastifyGraceful, { timeout: 10_000 })
// The `app.graceful` decoration reaches the consumer through the published types.
fastify.graceful.onClose(() => undefined, { name: 'queue' })

const expressApp = express()
const g = expressGraceful({ timeout: 10_000 })
expressApp.use(g)
g.onClose(() => undefined)

const koaApp = new Koa()
const k = koaGraceful({ timeout: 10_000 })
koaApp.use(k)

const summary: ShutdownSummary = await core.shutdown()
const code: number = ExitCodes.cut
export { all, code, isGracefulError, summary }
