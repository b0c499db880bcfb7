// fastify-graceful-shutdown: register the plugin; it owns the signals and the exit.
import Fastify from 'fastify'
import gracefulShutdown from 'fastify-graceful-shutdown'
import { routes } from '../../examples/fastify/routes.js'
import { announce, env } from './app.js'

const app = Fastify({ logger: false })
await app.register(gracefulShutdown, { timeout: env.timeout })
routes(app)
await app.listen({ port: env.port, host: env.host })
announce(app.server)
