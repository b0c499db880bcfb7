// A NestJS 12 service with @graceful/nestjs, on the Express platform or (PLATFORM=fastify)
// the Fastify one. Run it:
//   PORT=3000 GRACEFUL_READINESS_DELAY=5000 GRACEFUL_TIMEOUT=15000 pnpm start
// `PORT=0` picks a free port (printed as `listening <port>`, the only line on stdout);
// `HOST` defaults to every interface. `GRACEFUL=0` runs the same app without the
// module: bare Nest, where SIGTERM kills the process at once.
import 'reflect-metadata'
import { type INestApplication, type LoggerService } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { enableGracefulShutdown, type GracefulModuleOptions } from '@graceful/nestjs'
import { exampleEnvironment } from '../env.js'
import { AppModule } from './app.module.js'

const env = exampleEnvironment()

// `timeout` and `readinessDelay` come from GRACEFUL_TIMEOUT and
// GRACEFUL_READINESS_DELAY, which graceful reads itself (a bad value fails with
// its own error naming the variable, before anything listens). Options given
// here would win over them.
const options: GracefulModuleOptions = {}
// RELOAD=1: SIGHUP starts a new copy on the same socket, then this one drains (see @graceful/core's README).
if (env.reload) options.reload = env.reload
const { port } = env
const host = env.host ?? '0.0.0.0'
const withGraceful = env.graceful

/** JSON lines on stderr: stdout carries only the `listening <port>` line. graceful logs through it too. */
const line = (level: string) => (message: unknown, ...rest: unknown[]) => {
  const context = typeof rest.at(-1) === 'string' ? rest.pop() : undefined
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, context, message: String(message), ...(rest.length > 0 ? { detail: rest.map(String) } : {}) })}\n`)
}
const logger: LoggerService = { log: line('info'), warn: line('warn'), error: line('error'), debug: () => {}, verbose: () => {} }

const module = AppModule.register(withGraceful ? options : null)
const app: INestApplication = env.platform === 'fastify'
  ? await NestFactory.create(module, new FastifyAdapter(), { logger })
  : await NestFactory.create(module, new ExpressAdapter(), { logger })

// Instead of app.enableShutdownHooks(): SIGTERM/SIGINT drain first, then Nest's hooks run.
if (withGraceful) enableGracefulShutdown(app)

await app.listen(port, host)
const address = app.getHttpServer().address()
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
