/**
 * The environment contract every example shares:
 *
 * - `PORT`: where to listen (`0` picks a free port; the chosen one is printed as `listening <port>`).
 * - `HOST`: the address to bind (the end-to-end tests use `127.0.0.1`); every interface when unset.
 * - `GRACEFUL_TIMEOUT`, `GRACEFUL_READINESS_DELAY`: read by graceful itself
 *   (`timeout`, `readinessDelay`), in every app, not only in these examples.
 * - `GRACEFUL=0`: run without graceful, the bare baseline the end-to-end tests compare with.
 */

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
