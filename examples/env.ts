// The environment contract every example shares, parsed once: the table in examples/README.md.
// GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY are not here: graceful reads them itself, in any
// app (a bad value fails with graceful's own error naming the variable, before anything listens).

/** What the environment asks of an example app. */
export interface ExampleEnvironment {
  /** `PORT`, default 3000; `0` picks a free port (printed as `listening <port>`, the only line on stdout). */
  port: number
  /** `HOST`, or undefined for the app's default (every interface). */
  host: string | undefined
  /** False with `GRACEFUL=0`: the same routes without graceful, the bare baseline. */
  graceful: boolean
  /** With `RELOAD=1`, graceful's `reload` option from `RELOAD_TIMEOUT` and `RELOAD_PID_FILE`; otherwise undefined. */
  reload: { timeout?: number, pidFile?: string } | undefined
  /** `PLATFORM=fastify` runs the NestJS example on Fastify; Express otherwise. */
  platform: 'express' | 'fastify'
  /** `LOG_LEVEL` for examples with a leveled logger (Fastify's pino), or undefined. */
  logLevel: string | undefined
}

/** Reads the shared variables; a bad `PORT` or `PLATFORM` throws, naming the variable. */
export function exampleEnvironment (env: NodeJS.ProcessEnv = process.env): ExampleEnvironment {
  return {
    port: portFromEnv(env),
    host: isSet(env.HOST) ? env.HOST : undefined,
    graceful: env.GRACEFUL !== '0',
    reload: env.RELOAD === '1'
      ? {
          ...(isSet(env.RELOAD_TIMEOUT) ? { timeout: Number(env.RELOAD_TIMEOUT) } : {}),
          ...(isSet(env.RELOAD_PID_FILE) ? { pidFile: env.RELOAD_PID_FILE } : {}),
        }
      : undefined,
    platform: platformFromEnv(env),
    logLevel: isSet(env.LOG_LEVEL) ? env.LOG_LEVEL : undefined,
  }
}

/** `PORT`, default 3000. */
export function portFromEnv (env: NodeJS.ProcessEnv = process.env): number {
  if (!isSet(env.PORT)) return 3000
  const port = Number(env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError(`PORT must be a port number (0 for any free port), got "${env.PORT}"`)
  return port
}

function platformFromEnv (env: NodeJS.ProcessEnv): 'express' | 'fastify' {
  if (!isSet(env.PLATFORM) || env.PLATFORM === 'express') return 'express'
  if (env.PLATFORM === 'fastify') return 'fastify'
  throw new TypeError(`PLATFORM must be "express" or "fastify", got "${env.PLATFORM}"`)
}

function isSet (value: string | undefined): value is string {
  return value !== undefined && value.trim() !== ''
}
