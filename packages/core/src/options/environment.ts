import { invalidOption } from '../support/errors.js'
import type { GracefulOptions } from '../types/options.js'
import { parseQuietPeriod } from '../lifecycle/quiet-period.js'
import type { QuietPeriod } from '../types/lifecycle.js'

/**
 * The environment variables core reads, and the option each one sets. They
 * belong to the deploy (a Kubernetes manifest, a PM2 file, a systemd unit),
 * which also sets what must agree with them (`terminationGracePeriodSeconds`,
 * `kill_timeout`, the load balancer's check interval). Prefixed: a library
 * must not claim names such as `TIMEOUT` that apps use for their own settings.
 */
export const environmentOptions = {
  GRACEFUL_TIMEOUT: 'timeout',
  GRACEFUL_READINESS_DELAY: 'readinessDelay',
  GRACEFUL_MAX_CONNECTION_AGE: 'maxConnectionAge',
} as const satisfies Record<string, keyof GracefulOptions>

type EnvironmentOption = (typeof environmentOptions)[keyof typeof environmentOptions]

/**
 * The options the environment sets, validated: a value that is not a
 * non-negative number of milliseconds throws the option error, naming the
 * variable, as a bad option does. Empty values count as unset.
 * `GRACEFUL_READINESS_DELAY` also takes a quiet period: `quiet=1000,min=500,max=10000`.
 *
 * @example
 * optionsFromEnvironment({ GRACEFUL_TIMEOUT: '15000' }) // { timeout: 15000 }
 */
export function optionsFromEnvironment (env: NodeJS.ProcessEnv = process.env): { timeout?: number, readinessDelay?: number | QuietPeriod, maxConnectionAge?: number } {
  const options: Partial<Record<EnvironmentOption, number | QuietPeriod>> = {}
  for (const [variable, option] of Object.entries(environmentOptions)) {
    const raw = env[variable]
    if (raw === undefined || raw.trim() === '') continue
    const quiet = option === 'readinessDelay' ? parseQuietPeriod(raw) : null
    if (quiet) {
      options[option] = quiet
      continue
    }
    const value = Number(raw)
    if (!/^\s*\d+(\.\d+)?\s*$/.test(raw) || !Number.isFinite(value)) {
      const expected = option === 'readinessDelay' ? 'a number of milliseconds such as "5000", or a quiet period such as "quiet=1000,min=500,max=10000"' : 'a number of milliseconds such as "15000"'
      throw invalidOption(variableLabel(variable, option), expected, raw)
    }
    options[option] = value
  }
  return options as { timeout?: number, readinessDelay?: number | QuietPeriod, maxConnectionAge?: number }
}

function variableLabel (variable: string, option: string): string {
  return `${variable} (environment, sets ${option})`
}

/** The variable that set `option`, or `undefined` when the code did (or nothing did). */
export function variableThatSet (option: string, input: GracefulOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((input as Record<string, unknown>)[option] !== undefined) return undefined
  const variable = Object.entries(environmentOptions).find(([, name]) => name === option)?.[0]
  return variable !== undefined && (env[variable]?.trim() ?? '') !== '' ? variable : undefined
}

/**
 * How an error names `option`: by its variable when the environment set it,
 * so the user looks in the deploy file, not in the code.
 */
export function optionLabel (option: string, input: GracefulOptions, env: NodeJS.ProcessEnv = process.env): string {
  const variable = variableThatSet(option, input, env)
  return variable === undefined ? option : variableLabel(variable, option)
}

/**
 * `input` with the environment's values under it: an option given in code
 * wins over its variable. Never mutates `input`.
 */
export function withEnvironment<T extends GracefulOptions> (input: T, env: NodeJS.ProcessEnv = process.env): T {
  const fromEnvironment = optionsFromEnvironment(env)
  const merged: Record<string, unknown> = { ...fromEnvironment }
  for (const [key, value] of Object.entries(input)) if (value !== undefined) merged[key] = value
  return merged as T
}
