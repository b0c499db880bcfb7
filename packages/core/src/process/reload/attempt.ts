import { spawn, type ChildProcess } from 'node:child_process'
import { debuglog } from 'node:util'

// One reload attempt as a state machine with exactly one outcome:
//
//   booting ──"ready <n>"──▶ ready          (the only success)
//      │
//      ├─ exit / spawn error / timeout / "unclaimed …" / abort()
//      ▼
//   failing ── the child is killed (SIGKILL) and reaped ──▶ failed
//
// The first event decides; every later one is ignored. A "ready" read in the
// same loop turn as the timeout (libuv runs timers before it polls the pipe)
// therefore loses to it: the timer already decided "failed" and the child is
// being killed. A failure resolves only once the child is reaped, so no
// outcome leaves a process behind.

const debug = debuglog('graceful')

export type Outcome =
  | { ok: true, pid: number }
  | { ok: false, reason: string, pid: number | null, code: number | null, signal: NodeJS.Signals | null }

export interface AttemptOptions {
  /** The program and its arguments: this process's own. */
  command: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** The listening sockets, inherited at fd 3, 4, …; the ready pipe follows them. */
  fds: number[]
  /** How long the new process gets to say "ready". */
  timeout: number
  /** How many sockets its "ready" must say it owns: every one handed over. */
  sockets: number
  /** Test seam: how to start the process (node:child_process's spawn). */
  spawn?: typeof spawn
}

export interface Attempt {
  /** The new process's PID, or null when it could not be started. */
  readonly pid: number | null
  /** Settles once: ready, or failed with the child reaped. */
  readonly outcome: Promise<Outcome>
  /** While booting: fail with `reason`, kill and reap the child. Resolves once it is reaped (at once if decided already). */
  abort: (reason: string) => Promise<void>
}

/** Starts the new process and waits for its one outcome. Never throws: a spawn that throws is a failed outcome. */
export function startAttempt (options: AttemptOptions): Attempt {
  let child: ChildProcess
  try {
    child = (options.spawn ?? spawn)(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      // Same stdout/stderr; each listening socket at fd 3, 4, …; the ready pipe last.
      stdio: ['inherit', 'inherit', 'inherit', ...options.fds, 'pipe'],
    })
  } catch (error) {
    const outcome: Outcome = { ok: false, reason: `the new process could not be started: ${(error as Error).message}`, pid: null, code: null, signal: null }
    return { pid: null, outcome: Promise.resolve(outcome), abort: () => Promise.resolve() }
  }
  const pid = child.pid ?? null
  // 'exit' (a process ran) or 'close' after a spawn 'error' (none did): either way nothing is left to reap.
  const reaped = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }))
  })
  // Always listened to, for the child's whole life: a spawn error (ENOENT for
  // a deleted cwd or binary, EAGAIN) or a failed kill() must never be an
  // unhandled 'error' that takes this process down.
  child.on('error', (error) => {
    debug('reload: the new process: %s', error.message)
    // ENOENT names the program even when its folder is what went missing.
    const hint = (error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (is ${options.command} still there, and the folder ${options.cwd}?)` : ''
    decide({ ok: false, reason: `the new process could not be started: ${error.message}${hint}` })
  })
  const pipe = child.stdio[child.stdio.length - 1] as (NodeJS.ReadableStream & { destroy: () => void }) | null
  let decided: Outcome | null = null
  let settle!: (outcome: Outcome) => void
  const outcome = new Promise<Outcome>((resolve) => { settle = resolve })

  function decide (result: { ok: true } | { ok: false, reason: string }): void {
    if (decided) return
    clearTimeout(timer)
    pipe?.removeAllListeners('data')
    pipe?.destroy()
    if (result.ok) {
      decided = { ok: true, pid: pid as number }
      // From now on the new process is on its own; this one still reaps it if it dies first.
      child.unref()
      settle(decided)
      return
    }
    decided = { ok: false, reason: result.reason, pid, code: null, signal: null }
    const failure = decided
    if (child.exitCode === null && child.signalCode === null && pid !== null) child.kill('SIGKILL')
    void reaped.then(({ code, signal }) => settle({ ...failure, code, signal }))
  }

  const timer = setTimeout(() => decide({ ok: false, reason: `the new process was not ready within ${options.timeout} ms (killed)` }), options.timeout)
  let text = ''
  pipe?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    const line = /^(ready|unclaimed) ?(.*)\n/m.exec(text)
    if (!line) return
    // A bare "ready": a new process running an earlier version of graceful,
    // which says it only once every inherited socket is claimed and listening.
    const owned = line[2] === '' ? options.sockets : Number(line[2])
    if (line[1] === 'unclaimed') {
      decide({ ok: false, reason: `the new process became ready without claiming the inherited socket(s) ${line[2] ?? ''}: a version that listens on fewer addresses needs a restart, not a reload` })
    } else if (owned !== options.sockets) {
      decide({ ok: false, reason: `the new process owns ${line[2] ?? '?'} of the ${options.sockets} socket(s) handed over` })
    } else if (child.exitCode !== null || child.signalCode !== null) {
      decide({ ok: false, reason: 'the new process said ready, then exited' })
    } else {
      decide({ ok: true })
    }
  })
  pipe?.on('error', (error: Error) => { debug('reload: ready pipe: %s', error.message) })
  void reaped.then(({ code, signal }) => {
    decide({ ok: false, reason: `the new process exited (${signal ?? `code ${code}`}) before it was ready` })
  })

  return {
    pid,
    outcome,
    abort: (reason) => {
      decide({ ok: false, reason })
      return decided?.ok === true ? Promise.resolve() : outcome.then(() => undefined)
    },
  }
}
