import { ErrorCodes, GracefulError } from '../support/errors.js'
import type { DrainContext, HookResult, NotifyHook } from '../types/lifecycle.js'
import type { Tasks } from './tasks.js'

export interface NotifyHooksRun {
  /** Each hook's result, in the order they settled. */
  readonly results: HookResult[]
  /** The drain ended (deadline or force): each hook still running is reported as timed out. */
  timedOut: (why: string) => void
}

/**
 * Notify hooks run as tracked tasks: the drain waits for them. One that has
 * not settled when the drain ends (deadline or force) is reported by name as
 * timed out, like a release hook; settling later changes nothing. Forced
 * before the drain began, they are skipped. Each appears once in the summary.
 * `report`: a hook that failed or timed out.
 */
export function startNotifyHooks (
  hooks: readonly { name: string, hook: NotifyHook }[],
  tasks: Tasks,
  context: DrainContext,
  forced: boolean,
  report: (result: HookResult) => void,
): NotifyHooksRun {
  const results: HookResult[] = []
  const pending = new Map<string, number>()
  if (forced) {
    for (const { name } of hooks) results.push({ name, kind: 'notify', status: 'skipped', durationMs: 0 })
  } else {
    for (const [index, { name, hook }] of hooks.entries()) {
      const key = `${index}`
      const begun = Date.now()
      pending.set(key, begun)
      const settle = (result: HookResult) => {
        if (!pending.delete(key)) return
        results.push(result)
        if (result.status !== 'ok') report(result)
      }
      tasks.run(`notify ${name}`, hook, context).then(
        () => settle({ name, kind: 'notify', status: 'ok', durationMs: Date.now() - begun }),
        (error: unknown) => settle({ name, kind: 'notify', status: 'error', durationMs: Date.now() - begun, error }),
      )
    }
  }
  return {
    results,
    timedOut (why: string): void {
      for (const [key, begun] of pending) {
        const { name } = hooks[Number(key)]!
        pending.delete(key)
        const error = new GracefulError(ErrorCodes.HOOK_TIMEOUT, `notify hook "${name}" ${why}`)
        const result: HookResult = { name, kind: 'notify', status: 'timeout', durationMs: Date.now() - begun, error }
        results.push(result)
        report(result)
      }
    },
  }
}
