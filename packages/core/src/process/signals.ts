import { constants } from 'node:os'
import { debuglog } from 'node:util'
import { noop } from '../support/noop.js'

const debug = debuglog('graceful')

/** Exit codes of a signal-initiated (or fatal-error) shutdown. Part of the API. */
export const ExitCodes = {
  /** Drained, every hook succeeded. */
  clean: 0,
  /** A release hook failed or timed out, or the trigger was an uncaught error. */
  failed: 1,
  /** The drain deadline cut requests, sockets or tasks (like timeout(1)). */
  cut: 124,
  /** A second signal forced the exit: 128 + the signal's number (SIGTERM 143, SIGINT 130). */
  forcedBase: 128,
} as const

/** The exit code for a second signal. */
export function forcedExitCode (signal: NodeJS.Signals): number {
  return ExitCodes.forcedBase + (constants.signals[signal] ?? 0)
}

/** One graceful instance, as the process-wide registry sees it. */
export interface SignalMember {
  signals: readonly NodeJS.Signals[]
  handleFatalErrors: boolean
  /** Treat PM2's `'shutdown'` IPC message like SIGINT. */
  pm2: boolean
  exit: boolean
  /** True once this member is past its first trigger. */
  isShuttingDown: () => boolean
  /** Starts the shutdown; resolves to the exit code. */
  trigger: (reason: string, error?: unknown) => Promise<number>
  /** Skips ahead: destroy everything now. */
  force: (signal: NodeJS.Signals) => void
  /** Time budget, so the registry can keep the process alive exactly that long. */
  timeout: number
}

interface Registry {
  members: Set<SignalMember>
  listeners: Map<NodeJS.Signals, () => void>
  fatal: { exception: (error: unknown) => void, rejection: (reason: unknown) => void } | null
  message: ((message: unknown) => void) | null
  exiting: boolean
  /** Members that already received a delivered signal: only for them is the next one a second. */
  signalled?: WeakSet<SignalMember>
}

// One registry per process, even when two copies of this package are loaded:
// a signal must have exactly one owner.
const registryKey = Symbol.for('graceful.signal-registry.v1')
const globalSlot = globalThis as unknown as Record<symbol, Registry | undefined>

function registry (): Registry {
  globalSlot[registryKey] ??= { members: new Set(), listeners: new Map(), fatal: null, message: null, exiting: false }
  return globalSlot[registryKey]
}

/** Adds a member; returns the function that removes it (and the listeners, with the last member). */
export function registerSignals (member: SignalMember): () => void {
  const reg = registry()
  reg.members.add(member)
  sync(reg)
  return () => {
    reg.members.delete(member)
    sync(reg)
  }
}

function sync (reg: Registry): void {
  const wanted = new Set<NodeJS.Signals>()
  for (const member of reg.members) for (const signal of member.signals) wanted.add(signal)
  for (const [signal, listener] of reg.listeners) {
    if (!wanted.has(signal)) {
      process.off(signal, listener)
      reg.listeners.delete(signal)
    }
  }
  for (const signal of wanted) {
    if (reg.listeners.has(signal)) continue
    const listener = () => onSignal(reg, signal)
    reg.listeners.set(signal, listener)
    process.on(signal, listener)
  }

  const wantFatal = [...reg.members].some((member) => member.handleFatalErrors)
  if (wantFatal && !reg.fatal) {
    reg.fatal = {
      exception: (error) => onFatal(reg, 'uncaughtException', error),
      rejection: (reason) => onFatal(reg, 'unhandledRejection', reason),
    }
    process.on('uncaughtException', reg.fatal.exception)
    process.on('unhandledRejection', reg.fatal.rejection)
  } else if (!wantFatal && reg.fatal) {
    process.off('uncaughtException', reg.fatal.exception)
    process.off('unhandledRejection', reg.fatal.rejection)
    reg.fatal = null
  }
  syncMessage(reg)
}

function syncMessage (reg: Registry): void {
  const wanted = [...reg.members].some((member) => member.pm2) && typeof process.send === 'function'
  if (wanted && !reg.message) {
    const alone = process.listenerCount('message') === 0
    reg.message = (message) => {
      if (message === 'shutdown') onSignal(reg, 'SIGINT', (member) => member.pm2)
    }
    process.on('message', reg.message)
    // Listening for messages refs the IPC channel; ours alone must not keep the process alive.
    if (alone) (process.channel as { unref?: () => void } | undefined)?.unref?.()
  } else if (!wanted && reg.message) {
    process.off('message', reg.message)
    reg.message = null
  }
}

/**
 * "Second" means a second *delivered* signal. A first signal that arrives
 * while a drain started by `shutdown()`, the framework's close or the app's
 * own signal handler (registered before ours, so it ran first) is running
 * does not force: it joins that drain, and the process exits when it ends.
 */
function onSignal (reg: Registry, signal: NodeJS.Signals, select = (member: SignalMember) => member.signals.includes(signal)): void {
  const members = [...reg.members].filter(select)
  // A registry made by an older copy of this package may lack the set.
  const signalled = reg.signalled ??= new WeakSet()
  if (members.some((member) => signalled.has(member))) {
    debug('second signal %s: forcing', signal)
    for (const member of members) member.force(signal)
    if (members.some((member) => member.exit)) exit(reg, forcedExitCode(signal))
    return
  }
  debug('signal %s: shutting down %d instance(s)', signal, members.length)
  for (const member of members) signalled.add(member)
  settle(reg, members, members.map((member) => member.trigger(signal)))
}

/**
 * A fatal error never vanishes: every member logs it (with its stack). One
 * already shutting down lets its drain go on within the budget, and its exit
 * code becomes 1 (unless a deadline cut or a second signal decides a more
 * specific one); the process exits when that drain ends, even if it was a
 * programmatic one.
 */
function onFatal (reg: Registry, reason: 'uncaughtException' | 'unhandledRejection', error: unknown): void {
  const members = [...reg.members].filter((member) => member.handleFatalErrors)
  if (members.length === 0) return
  settle(reg, members, members.map((member) => member.trigger(reason, error)))
}

function settle (reg: Registry, members: SignalMember[], codes: Promise<number>[]): void {
  if (!members.some((member) => member.exit)) {
    for (const code of codes) code.catch(noop)
    return
  }
  // Our own timers may all be unref'd: this one keeps the process alive until
  // the shutdown decides the exit code, and no longer than the longest budget.
  const budget = Math.max(...members.map((member) => member.timeout))
  const keepAlive = setTimeout(() => exit(reg, ExitCodes.cut), budget + 100)
  void Promise.all(codes).then((all) => {
    clearTimeout(keepAlive)
    exit(reg, Math.max(...all))
  })
}

function exit (reg: Registry, code: number): void {
  if (reg.exiting) return
  reg.exiting = true
  debug('exit %d', code)
  process.exit(code)
}
