// close-with-grace with Fastify, as its README pairs them: on a signal, app.close().
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import { routes } from '../../examples/fastify/routes.js'
import { announce, env } from './app.js'

const app = Fastify({ logger: false })
routes(app)
closeWithGrace({ delay: env.timeout, logger: false }, async () => {
  await app.close()
})
await app.listen({ port: env.port, host: env.host })
announce(app.server)
