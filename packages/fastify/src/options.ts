import type { GracefulOptions, HealthOptions } from '@graceful/core'
import { invalidOption, resolveOptions } from '@graceful/core/adapter'
import type { FastifyInstance, LogLevel, RawServerBase } from 'fastify'

/** Route options of the liveness and readiness routes, like `@fastify/under-pressure`'s status route. */
export interface HealthRouteOptions {
  /**
   * Fastify's route `logLevel` for the two health routes only, e.g. `'warn'`
   * so probes every second do not write two info lines each.
   * @default the register `logLevel`, else the app's level
   */
  logLevel?: LogLevel
  /**
   * Leave the health routes out of the OpenAPI document that `@fastify/swagger`
   * builds (`schema.hide`).
   * @default false
   */
  hide?: boolean
  /**
   * Merged into both routes' schema, e.g. `{ tags: ['ops'], security: [] }`.
   * The `response` schema (200 and 503 shapes) is the plugin's own.
   */
  schema?: Record<string, unknown>
}

/** What the plugin makes of the register options. */
export interface SplitOptions {
  /** For `createAdapterGraceful`: health paths as the server sees them (prefix included), `logger` defaulted. */
  core: GracefulOptions
  /** The register options that are not the core's, for the core's `extraKeys`. */
  extraKeys: readonly string[]
  /** Health paths as routes of this context (Fastify adds the context's prefix). */
  routes: { liveness: string | false, readiness: string | false, options: HealthRouteOptions }
}

// Keys Fastify itself reads from register options and passes on to the plugin, and the plugin's own.
const extraKeys = ['prefix', 'logLevel', 'logSerializers', 'healthRoutes'] as const

/**
 * Validates everything (the core options included) without starting anything,
 * so a bad option rejects `app.register()` before a signal listener exists.
 *
 * The health routes follow Fastify's prefixes, the register `prefix` (which
 * Fastify itself ignores for a `fastify-plugin`) and the prefix of the context
 * the plugin is registered in, and the core's gate matches the same full
 * paths: a probe is never answered with the draining 503.
 */
export function splitOptions (app: FastifyInstance<RawServerBase>, options: Record<string, unknown>): SplitOptions {
  const core: Record<string, unknown> = { ...options }
  const prefix = routePrefix(options.prefix)
  const levels = (app.log as { levels?: { values?: Record<string, number> } }).levels?.values
  const logLevel = level('logLevel', options.logLevel, levels)
  const routeOptions = healthRouteOptions(options.healthRoutes, logLevel, levels)
  if (core.logger === undefined) core.logger = logLevel === undefined ? app.log : app.log.child({}, { level: logLevel })
  // Throws the core's named error on a bad option; the core ignores the extra keys.
  const { health } = resolveOptions(core as GracefulOptions, extraKeys)
  const routes = {
    liveness: health.liveness === false ? false : join(prefix, health.liveness),
    readiness: health.readiness === false ? false : join(prefix, health.readiness),
    options: routeOptions,
  } as const
  const full = (path: string | false) => path === false ? false : join(app.prefix, path)
  // With `health.port`, health has a listener of its own: its paths are not the app's routes, so no prefix applies.
  const ownPort = (options.health as HealthOptions | undefined)?.port !== undefined
  if (options.health !== false && !ownPort && (app.prefix !== '' || prefix !== '')) {
    core.health = { ...(options.health as HealthOptions | undefined), liveness: full(routes.liveness), readiness: full(routes.readiness) }
  }
  return { core: core as GracefulOptions, extraKeys, routes }
}

function routePrefix (value: unknown): string {
  if (value === undefined || value === '') return ''
  if (typeof value !== 'string' || !value.startsWith('/')) throw invalidOption('prefix', 'a path starting with "/"', value)
  return value
}

function join (prefix: string, path: string): string {
  return prefix.replace(/\/+$/, '') + path
}

/** A level name; checked against pino's levels when the app logs through pino. */
function level (name: string, value: unknown, levels: Record<string, number> | undefined): LogLevel | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '' || (levels !== undefined && !(value in levels) && value !== 'silent')) {
    throw invalidOption(name, `a log level name${levels ? ` (${Object.keys(levels).join(', ')}, silent)` : ' such as "warn"'}`, value)
  }
  return value as LogLevel
}

function healthRouteOptions (value: unknown, logLevel: LogLevel | undefined, levels: Record<string, number> | undefined): HealthRouteOptions {
  if (value === undefined) return { logLevel }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption('healthRoutes', 'an object', value)
  const input = value as Record<string, unknown>
  for (const key of Object.keys(input)) {
    if (!['logLevel', 'hide', 'schema'].includes(key)) throw invalidOption(`healthRoutes.${key}`, 'one of logLevel, hide, schema', key)
  }
  if (input.hide !== undefined && typeof input.hide !== 'boolean') throw invalidOption('healthRoutes.hide', 'a boolean', input.hide)
  const schema = input.schema
  if (schema !== undefined && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    throw invalidOption('healthRoutes.schema', 'an object', schema)
  }
  return {
    logLevel: level('healthRoutes.logLevel', input.logLevel, levels) ?? logLevel,
    hide: input.hide as boolean | undefined,
    schema: schema as Record<string, unknown> | undefined,
  }
}
