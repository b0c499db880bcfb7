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
import { AppModule } from './app.module.js'

const env = process.env
const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== ''

// `timeout` and `readinessDelay` come from GRACEFUL_TIMEOUT and
// GRACEFUL_READINESS_DELAY, which graceful reads itself (a bad value fails with
// its own error naming the variable, before anything listens). Options given
// here would win over them.
const options: GracefulModuleOptions = {}
// RELOAD=1: SIGHUP starts a new copy on the same socket, then this one drains (see @graceful/core's README).
if (env.RELOAD === '1') options.reload = isSet(env.RELOAD_TIMEOUT) ? { timeout: Number(env.RELOAD_TIMEOUT) } : true
const port = isSet(env.PORT) ? Number(env.PORT) : 3000
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError(`PORT must be a port number (0 for any free port), got "${env.PORT}"`)
const host = isSet(env.HOST) ? env.HOST : '0.0.0.0'
const withGraceful = env.GRACEFUL !== '0'

/** JSON lines on stderr: stdout carries only the `listening <port>` line. graceful logs through it too. */
const line = (level: string) => (message: unknown, ...rest: unknown[]) => {
  const context = typeof rest.at(-1) === 'string' ? rest.pop() : undefined
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, context, message: String(message), ...(rest.length > 0 ? { detail: rest.map(String) } : {}) })}\n`)
}
const logger: LoggerService = { log: line('info'), warn: line('warn'), error: line('error'), debug: () => {}, verbose: () => {} }

const module = AppModule.register(withGraceful ? options : null)
const app: INestApplication = env.PLATFORM === 'fastify'
  ? await NestFactory.create(module, new FastifyAdapter(), { logger })
  : await NestFactory.create(module, new ExpressAdapter(), { logger })

// Instead of app.enableShutdownHooks(): SIGTERM/SIGINT drain first, then Nest's hooks run.
if (withGraceful) enableGracefulShutdown(app)

await app.listen(port, host)
const address = app.getHttpServer().address()
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
