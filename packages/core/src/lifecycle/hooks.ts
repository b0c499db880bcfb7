import type { HookOptions, HookResult, Releasable } from '../types/lifecycle.js'
import { ErrorCodes, GracefulError } from '../support/errors.js'
import { duration } from '../support/duration.js'
import { withTimeout } from '../support/timeout.js'

export interface ReleaseHook {
  name: string
  timeout: number | undefined
  run: (signal: AbortSignal) => unknown
}

/** Normalises a function, `close()`-able or disposable into one callable hook. */
export function toReleaseHook (target: Releasable, options: HookOptions, index: number): ReleaseHook {
  duration('onClose timeout', options.timeout, 0)
  const named = (fallback: string) => options.name ?? fallback
  if (typeof target === 'function') {
    return { name: named(target.name || `release#${index}`), timeout: options.timeout, run: target }
  }
  if (target !== null && typeof target === 'object') {
    const className = (target as object).constructor?.name
    const fallback = className && className !== 'Object' ? className : `release#${index}`
    if (Symbol.asyncDispose in target) {
      return { name: named(fallback), timeout: options.timeout, run: () => target[Symbol.asyncDispose]() }
    }
    if (Symbol.dispose in target) {
      return { name: named(fallback), timeout: options.timeout, run: () => target[Symbol.dispose]() }
    }
    if ('close' in target && typeof target.close === 'function') {
      return { name: named(fallback), timeout: options.timeout, run: () => target.close() }
    }
  }
  throw new TypeError('graceful: onClose() takes a function, or an object with close(), Symbol.asyncDispose or Symbol.dispose')
}

/**
 * Runs release hooks last registered first, one at a time, each under its
 * own timeout: its `timeout` option, or a fair share of what is left of the
 * budget, so one hanging hook cannot starve the ones after it.
 * When `forced` aborts, the running hook is abandoned (reported as timed
 * out, its signal aborted) and the rest are skipped, at once.
 */
export async function runReleaseHooks (
  hooks: readonly ReleaseHook[],
  budgetEnd: number,
  report: { start: (name: string) => void, result: (result: HookResult) => void },
  forced?: AbortSignal,
): Promise<HookResult[]> {
  const results: HookResult[] = []
  const ordered = [...hooks].reverse()
  for (const [position, hook] of ordered.entries()) {
    if (forced?.aborted) {
      results.push({ name: hook.name, kind: 'release', status: 'skipped', durationMs: 0 })
      continue
    }
    const left = budgetEnd - Date.now()
    const share = Math.floor(left / (ordered.length - position))
    const limit = Math.max(0, Math.min(hook.timeout ?? share, left))
    report.start(hook.name)
    const result = await runOne(hook, limit, forced)
    results.push(result)
    report.result(result)
  }
  return results
}

async function runOne (hook: ReleaseHook, limit: number, forced: AbortSignal | undefined): Promise<HookResult> {
  const started = Date.now()
  const base = { name: hook.name, kind: 'release' as const }
  if (limit <= 0) return { ...base, status: 'skipped', durationMs: 0 }
  const controller = new AbortController()
  const work = Promise.resolve().then(() => hook.run(controller.signal))
  try {
    const { outcome } = await withTimeout(work, limit, forced)
    if (outcome !== 'done') {
      const error = new GracefulError(ErrorCodes.HOOK_TIMEOUT, outcome === 'aborted'
        ? `release hook "${hook.name}" was abandoned by force()`
        : `release hook "${hook.name}" did not finish within ${limit} ms`)
      controller.abort(error)
      return { ...base, status: 'timeout', durationMs: Date.now() - started, error }
    }
    return { ...base, status: 'ok', durationMs: Date.now() - started }
  } catch (error) {
    return { ...base, status: 'error', durationMs: Date.now() - started, error }
  }
}
