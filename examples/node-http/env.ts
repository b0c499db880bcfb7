import type { GracefulOptions } from '@graceful/core'

/**
 * The environment contract every example shares:
 *
 * - `RELOAD=1`: zero-downtime in-place restart on SIGHUP (`reload`); `RELOAD_TIMEOUT`: ms the new process gets to be ready;
 *   `RELOAD_PID_FILE`: where each process writes its PID once ready (systemd `PIDFile=`).
 *
 * - `PORT`: where to listen (`0` picks a free port; the chosen one is printed as `listening <port>`).
 * - `HOST`: the address to bind (the end-to-end tests use `127.0.0.1`); every interface when unset.
 * - `TIMEOUT`: the whole shutdown budget in ms (`timeout`).
 * - `READINESS_DELAY`: ms of serving with `Connection: close` after the trigger (`readinessDelay`).
 * - `GRACEFUL=0`: run without graceful, the bare baseline the end-to-end tests compare with.
 *
 * Values are passed to the options unchanged (as numbers), so a bad one fails
 * with core's own error naming the option, before anything listens.
 */
export function optionsFromEnv (env: NodeJS.ProcessEnv = process.env): Pick<GracefulOptions, 'timeout' | 'readinessDelay' | 'reload'> {
  const options: Pick<GracefulOptions, 'timeout' | 'readinessDelay' | 'reload'> = {}
  if (isSet(env.TIMEOUT)) options.timeout = Number(env.TIMEOUT)
  if (isSet(env.READINESS_DELAY)) options.readinessDelay = Number(env.READINESS_DELAY)
  if (env.RELOAD === '1') {
    options.reload = {
      ...(isSet(env.RELOAD_TIMEOUT) ? { timeout: Number(env.RELOAD_TIMEOUT) } : {}),
      ...(isSet(env.RELOAD_PID_FILE) ? { pidFile: env.RELOAD_PID_FILE } : {}),
    }
  }
  return options
}

/** `PORT`, default 3000. */
export function portFromEnv (env: NodeJS.ProcessEnv = process.env): number {
  if (!isSet(env.PORT)) return 3000
  const port = Number(env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError(`PORT must be a port number (0 for any free port), got "${env.PORT}"`)
  return port
}

/** `HOST`, or undefined for every interface. */
export function hostFromEnv (env: NodeJS.ProcessEnv = process.env): string | undefined {
  return isSet(env.HOST) ? env.HOST : undefined
}

/** `GRACEFUL=0` turns the plugin off. */
export function gracefulFromEnv (env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GRACEFUL !== '0'
}

function isSet (value: string | undefined): value is string {
  return value !== undefined && value.trim() !== ''
}
