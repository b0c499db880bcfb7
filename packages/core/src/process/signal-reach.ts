import { readFileSync } from 'node:fs'
import type { Logger } from '../types/lifecycle.js'

/** What the check looks at; the process's own by default, injectable in tests. */
export interface ProcessFacts {
  env: NodeJS.ProcessEnv
  pid: number
  ppid: number
  /** PID 1's argv, or `undefined` where it cannot be read (not Linux, no /proc). */
  initCommand: () => string[] | undefined
}

const processFacts: ProcessFacts = {
  env: process.env,
  pid: process.pid,
  ppid: process.ppid,
  initCommand: () => {
    try {
      return readFileSync('/proc/1/cmdline', 'latin1').split('\0').filter(Boolean)
    } catch {
      return undefined
    }
  },
}

const packageManager = /^(npm|npx|pnpm|pnpx|yarn|yarnpkg|npm-cli|pnpm\.c?js|yarn\.c?js|npm-cli\.js)$/
const shell = /^(sh|bash|dash|ash|zsh)$/
const base = (path: string | undefined) => path?.split('/').pop() ?? ''

/**
 * Why SIGTERM may never reach this process, or `null` when nothing says so.
 * The most reported "graceful shutdown does not work": in a container the
 * platform signals PID 1 only, and when PID 1 is `npm start` (or pnpm, yarn)
 * or a shell running a shell-form `CMD`, it may not pass SIGTERM on; the
 * drain never starts and SIGKILL arrives at the end of the grace period.
 *
 * - node is PID 1: signals reach it (graceful handles them). `null`.
 * - a package manager runs this process's script (`npm_lifecycle_event`) and
 *   is PID 1, directly above node or above the `sh -c` it runs scripts with.
 * - node's parent is PID 1 and PID 1 is `sh -c …` (a shell-form `CMD`).
 */
export function signalBlocker (facts: ProcessFacts = processFacts): string | null {
  if (facts.pid === 1) return null
  const script = facts.env.npm_lifecycle_event
  const runsScript = script !== undefined && script !== ''
  if (!runsScript && facts.ppid !== 1) return null
  const init = facts.initCommand()
  if (init === undefined || init.length === 0) {
    return runsScript && facts.ppid === 1 ? `it runs as the "${script}" script of a package manager that is PID 1` : null
  }
  // npm sets its process title (`npm start`): the kernel then shows PID 1's argv as that one string.
  const words = init.length === 1 ? init[0]!.trim().split(/\s+/) : init
  const tool = [words[0], words[1]].map(base).find((name) => packageManager.test(name))
  if (runsScript && tool !== undefined) return `it runs as the "${script}" script of ${tool.replace(/(-cli)?\.c?js$/, '')}, which is PID 1`
  if (facts.ppid === 1 && shell.test(base(init[0])) && init[1] === '-c') return `its parent, PID 1, is a shell (${base(init[0])} -c), as a shell-form CMD makes it`
  return null
}

// Once per process, even with several instances or two copies of the package.
const warnedKey = Symbol.for('graceful.signal-reach.warned.v1')
const globalSlot = globalThis as unknown as Record<symbol, boolean | undefined>

/**
 * At startup, with signals on: warn once per process when SIGTERM may never
 * reach it. Never throws; the check reads the environment and /proc/1/cmdline.
 */
export function warnIfSignalsMayNotArrive (log: Logger, facts: ProcessFacts = processFacts): void {
  if (globalSlot[warnedKey] === true) return
  globalSlot[warnedKey] = true
  let reason: string | null = null
  try {
    reason = signalBlocker(facts)
  } catch {
    return
  }
  if (reason === null) return
  log.warn({ code: 'GRACEFUL_SIGNALS_MAY_NOT_ARRIVE', reason },
    `graceful: SIGTERM may never reach this process: ${reason}. Then nothing drains and the platform kills in-flight requests. ` +
    'Run node directly (exec form: CMD ["node", "dist/server.js"]), or under tini or dumb-init; see deploy/README.md.')
}
