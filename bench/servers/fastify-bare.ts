// Bare Fastify with the bench routes: the baseline of the Fastify libraries below.
import Fastify from 'fastify'
import { announce, env, routes } from './app.js'

const app = Fastify({ logger: false })
routes(app)
await app.listen({ port: env.port, host: env.host })
announce(app.server)
