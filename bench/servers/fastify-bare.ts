// Bare Fastify with the Fastify example's routes: the baseline of the Fastify libraries below.
import Fastify from 'fastify'
import { routes } from '../../examples/fastify/routes.js'
import { announce, env } from './app.js'

const app = Fastify({ logger: false })
routes(app)
await app.listen({ port: env.port, host: env.host })
announce(app.server)
