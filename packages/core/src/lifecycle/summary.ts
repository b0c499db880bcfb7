import { constants } from 'node:os'
import { ExitCodes, forcedExitCode } from '../process/signals.js'
import type { CutRequest, DelayReport, HookResult, ShutdownSummary, Trigger } from '../types/lifecycle.js'

/** What a shutdown ends with, as lifecycle.ts gathered it. */
export interface ShutdownRecord {
  trigger: Trigger
  /** `Date.now()` at the trigger, at the drain start, at the drain end, at the end. */
  times: { started: number, drainStarted: number, drainEnded: number, ended: number }
  delayReport: DelayReport
  counts: { completed: number, rejected: number }
  cut: CutRequest[]
  holding: string[]
  hooks: HookResult[]
  /** What forced it (a signal's name, or a reason), or null. */
  forcedBy: string | null
  /** An uncaught error during the shutdown. */
  fatalSeen: boolean
}

/** The summary `shutdown()` resolves to: outcome, exit code, durations per phase, what was cut. */
export function summarize (record: ShutdownRecord): ShutdownSummary {
  const { trigger, times, cut, holding, hooks, forcedBy } = record
  const outcome = forcedBy ? 'forced' : cut.length > 0 || holding.length > 0 ? 'cut' : hooks.some((h) => h.status !== 'ok') ? 'failed' : 'clean'
  return {
    trigger,
    outcome,
    exitCode: exitCodeFor(outcome, record),
    durations: {
      readinessDelay: times.drainStarted - times.started,
      drain: times.drainEnded - times.drainStarted,
      release: times.ended - times.drainEnded,
      total: times.ended - times.started,
    },
    readinessDelay: record.delayReport,
    requests: { completed: record.counts.completed, rejected: record.counts.rejected, cut: cut.length },
    cut,
    holding,
    hooks,
  }
}

function exitCodeFor (outcome: ShutdownSummary['outcome'], { forcedBy, fatalSeen, trigger }: ShutdownRecord): number {
  if (forcedBy) return forcedBy in constants.signals ? forcedExitCode(forcedBy as NodeJS.Signals) : ExitCodes.failed
  if (fatalSeen || trigger === 'uncaughtException' || trigger === 'unhandledRejection') return ExitCodes.failed
  if (outcome === 'cut') return ExitCodes.cut
  if (outcome === 'failed') return ExitCodes.failed
  return ExitCodes.clean
}
