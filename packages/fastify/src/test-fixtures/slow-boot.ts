// A child process: a Fastify app with the plugin (real signals) whose boot
// takes 1.5 s (a slow plugin). Tells its parent 'booting' once that plugin
// runs, 'listening' if the server ever listens, and how app.listen() settled.
import Fastify from 'fastify'
import graceful from '../index.js'

const send = (message: string) => process.send?.(message)
process.channel?.unref()
const app = Fastify()
await app.register(graceful, { logger: false })
void app.register(async () => {
  send('booting')
  await new Promise((resolve) => setTimeout(resolve, 1500))
})
app.server.on('listening', () => send('listening'))
app.listen({ port: 0, host: '127.0.0.1' }).then(
  () => send('listen resolved'),
  (error: NodeJS.ErrnoException) => send(`listen rejected ${error.code}`),
)
