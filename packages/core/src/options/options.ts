import { constants } from 'node:os'
import { optionLabel, variableThatSet, withEnvironment } from './environment.js'
import { invalidOption } from '../support/errors.js'
import { duration } from '../support/duration.js'
import { resolveReload } from '../process/reload/reload.js'
import type { ResolvedHealthListener, GracefulOptions, HealthOptions, ResolvedOptions } from '../types/options.js'
import { resolveLogger } from '../observing/logger.js'
import { resolveControl } from '../answers/control.js'
import { checkSharedPort, resolveHealthListener } from '../answers/health-port.js'
import { resolveConnectionAge } from '../connections/connection-age.js'
import { validateSpread } from '../streams/spread.js'
import { resolveQuietPeriod } from '../lifecycle/quiet-period.js'

const optionKeys = new Set<string>([
  'timeout', 'readinessDelay', 'releaseTimeout', 'retryAfter', 'rejectedBodyLimit', 'signals', 'exit',
  'handleFatalErrors', 'logger', 'health', 'readyWhen', 'onCut', 'pm2', 'reload', 'control',
  'maxConnectionAge', 'maxConnectionAgeJitter', 'maxConnectionAgeGrace', 'spread',
])
const healthKeys = new Set<string>(['liveness', 'readiness', 'checks', 'checkTimeout', 'detail', 'port', 'host'])

// SIGKILL and SIGSTOP cannot be caught; the fatal ones (SIGSEGV, SIGBUS, ...) must not be.
const uncatchable = new Set(['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS'])

/**
 * Applies defaults and validates. Throws a `TypeError` with code
 * `ERR_GRACEFUL_INVALID_OPTION` that names the option; never mutates `input`.
 * Adapters pass the keys they own in `extraKeys`.
 */
export function resolveOptions (input: GracefulOptions = {}, extraKeys: readonly string[] = []): ResolvedOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidOption('options', 'an object', input)
  }
  // GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY, under the options given in code.
  const inCode = input
  input = withEnvironment(input)
  for (const key of Object.keys(input)) {
    if (!optionKeys.has(key) && !extraKeys.includes(key)) {
      throw invalidOption(key, `one of the known options (${[...optionKeys, ...extraKeys].join(', ')})`, key)
    }
  }

  const timeout = duration('timeout', input.timeout, 10_000)
  if (timeout === 0) throw invalidOption('timeout', 'a duration above 0 ms', 0)
  const releaseTimeout = duration('releaseTimeout', input.releaseTimeout, Math.min(1000, Math.floor(timeout / 4)))
  const quietPeriod = typeof input.readinessDelay === 'object' && input.readinessDelay !== null && !Array.isArray(input.readinessDelay)
    ? resolveQuietPeriod(input.readinessDelay, timeout - releaseTimeout)
    : null
  const readinessDelay = quietPeriod ? quietPeriod.max : duration('readinessDelay', input.readinessDelay, 0)
  if (readinessDelay + releaseTimeout >= timeout) {
    // Named as the user set them: a variable in the deploy file, or the options in code.
    const timeoutVariable = variableThatSet('timeout', inCode)
    const limit = `timeout (${timeout} ms${timeoutVariable === undefined ? '' : `, from ${timeoutVariable}`})`
    if (input.releaseTimeout === undefined) {
      throw invalidOption(optionLabel('readinessDelay', inCode), `less than ${limit} minus releaseTimeout (${releaseTimeout} ms by default), leaving time to drain`, readinessDelay)
    }
    throw invalidOption('readinessDelay + releaseTimeout', `less than ${limit}, leaving time to drain`, readinessDelay + releaseTimeout)
  }
  const retryAfter = duration('retryAfter', input.retryAfter, 1)

  const shutdownSignals = signals(input.signals)
  const { routes, listener } = health(input.health)
  const control = resolveControl(input.control)
  checkSharedPort(listener, control)
  return {
    timeout,
    readinessDelay,
    quietPeriod,
    releaseTimeout,
    retryAfter: Math.ceil(retryAfter),
    rejectedBodyLimit: byteCount('rejectedBodyLimit', input.rejectedBodyLimit, 64 * 1024 * 1024),
    signals: shutdownSignals,
    exit: bool('exit', input.exit, true),
    handleFatalErrors: bool('handleFatalErrors', input.handleFatalErrors, false),
    logger: resolveLogger(input.logger),
    health: routes,
    readyWhen: oneOf('readyWhen', input.readyWhen, ['listening', 'manual'] as const, 'listening'),
    onCut: fn('onCut', input.onCut),
    pm2: bool('pm2', input.pm2, process.env.PM2_HOME !== undefined || process.env.pm_id !== undefined),
    reload: resolveReload(input.reload, shutdownSignals, timeout - releaseTimeout),
    healthListener: listener,
    control,
    connectionAge: resolveConnectionAge(input),
    spread: validateSpread('spread', input.spread),
  }
}

function byteCount (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidOption(name, 'a whole, non-negative number of bytes', value)
  }
  return value
}

function bool (name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}

function fn<T> (name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(name, 'a function', value)
  return value
}

function oneOf<const T extends readonly string[]> (name: string, value: unknown, allowed: T, fallback: T[number]): T[number] {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value)
  }
  return value
}

function signals (value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined) return ['SIGTERM', 'SIGINT']
  if (value === false) return []
  if (!Array.isArray(value)) throw invalidOption('signals', 'an array of signal names or false', value)
  for (const signal of value) {
    if (typeof signal !== 'string' || !(signal in constants.signals) || uncatchable.has(signal)) {
      throw invalidOption('signals', 'catchable signal names such as "SIGTERM"', signal)
    }
  }
  return [...new Set(value as NodeJS.Signals[])]
}

/** The app's health routes, and the listener of their own when `health.port` is set (the routes are then off). */
function health (value: unknown): { routes: ResolvedOptions['health'], listener: ResolvedHealthListener | null } {
  const off = { liveness: false, readiness: false, checks: {}, checkTimeout: 1000, detail: false } as const
  if (value === false) return { routes: { ...off }, listener: null }
  if (value === undefined) return { routes: { ...off, liveness: '/livez', readiness: '/readyz' }, listener: null }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption('health', 'an object or false', value)
  }
  for (const key of Object.keys(value)) {
    if (!healthKeys.has(key)) throw invalidOption(`health.${key}`, `one of ${[...healthKeys].join(', ')}`, key)
  }
  const input = value as HealthOptions
  const checks = input.checks ?? {}
  if (typeof checks !== 'object' || checks === null || Object.values(checks).some((c) => typeof c !== 'function')) {
    throw invalidOption('health.checks', 'an object of functions', checks)
  }
  const liveness = path('health.liveness', input.liveness, '/livez')
  const readiness = path('health.readiness', input.readiness, '/readyz')
  // Liveness is matched first: on one path, readiness would never turn 503.
  if (liveness !== false && liveness === readiness) {
    throw invalidOption('health.readiness', `a path other than health.liveness ("${liveness}"): a load balancer must see readiness turn 503`, readiness)
  }
  const listener = resolveHealthListener(input, liveness, readiness)
  const routes = {
    liveness: listener ? false : liveness,
    readiness: listener ? false : readiness,
    checks,
    checkTimeout: duration('health.checkTimeout', input.checkTimeout, 1000),
    detail: bool('health.detail', input.detail, false),
  }
  return { routes, listener }
}

function path (name: string, value: unknown, fallback: string): string | false {
  if (value === undefined) return fallback
  if (value === false) return false
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw invalidOption(name, 'an absolute path (starting with "/", without "?", "#" or spaces) or false', value)
  }
  return value
}
