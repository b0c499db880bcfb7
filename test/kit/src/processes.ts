import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { within } from './deferred.js'

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

/** A child process the test started, with its output kept for failure messages. */
export interface Started {
  name: string
  child: ChildProcess
  pid: number
  /** Every line printed on stdout so far. */
  lines: string[]
  /** stdout and stderr, interleaved, for failure messages. */
  output: () => string
  exited: Promise<Exit>
  /** Resolves with the first stdout line matching `pattern`; rejects on exit or after `ms`. */
  line: (pattern: RegExp, ms: number) => Promise<RegExpExecArray>
  alive: () => boolean
}

/**
 * Every process a test (or the bench) starts, ended by PID in teardown whatever happened.
 * `killAll()` belongs in `afterEach`/`afterAll`; `killAllNow()` in an `exit` handler.
 */
export class Processes {
  readonly #started = new Set<Started>()
  readonly #adopted = new Set<number>()

  /**
   * Starts a process with piped stdout/stderr; `ipc: true` adds an IPC channel (`process.send` in the child);
   * `fds` are handed down as its descriptors 3, 4, … (listening sockets, as systemd passes them).
   */
  spawn (name: string, command: string, args: readonly string[], options: SpawnOptions & { ipc?: boolean, fds?: number[] } = {}): Started {
    const { ipc, fds = [], ...rest } = options
    const child = spawn(command, args, { ...rest, stdio: ['ignore', 'pipe', 'pipe', ...fds, ...(ipc ? ['ipc' as const] : [])] })
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`)
    let output = ''
    const lines: string[] = []
    const waiters = new Set<() => void>()
    let partial = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString()
      output += text
      partial += text
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      lines.push(...parts)
      for (const waiter of waiters) waiter()
    })
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal })
        for (const waiter of waiters) waiter()
      })
    })
    const started: Started = {
      name,
      child,
      pid: child.pid,
      lines,
      output: () => output,
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
      line: (pattern, ms) => within(new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = pattern.exec(line)
            if (match) {
              waiters.delete(check)
              return resolve(match)
            }
          }
          if (!started.alive()) {
            waiters.delete(check)
            reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`))
          }
        }
        waiters.add(check)
        check()
      }), ms, `${name} to print ${pattern}`),
    }
    this.#started.add(started)
    void exited.then(() => this.#started.delete(started))
    return started
  }

  /** SIGKILL, by PID, every process still running; waits (bounded) for each to be gone. */
  async killAll (): Promise<void> {
    const running = this.killAllNow()
    await within(Promise.all(running.map((started) => started.exited)), 5000, 'started processes to exit')
  }

  /** SIGKILL, by PID, every process still running, without waiting: synchronous, so it works in an `exit` handler. */
  killAllNow (): Started[] {
    const running = [...this.#started].filter((started) => started.alive())
    for (const started of running) {
      try {
        process.kill(started.pid, 'SIGKILL')
      } catch {
        // Already gone between the check and the kill.
      }
    }
    return running
  }

  /**
   * A process one of ours started (a cluster worker its primary reported): ended by
   * PID in teardown too, unless `release()`d once reported gone.
   */
  adopt (pid: number): void {
    this.#adopted.add(pid)
  }

  release (pid: number): void {
    this.#adopted.delete(pid)
  }

  /**
   * SIGKILL adopted PIDs not reported gone. Call it before `killAll()`: while their
   * parent lives, an unreaped PID cannot have been reused by another process.
   */
  killAdopted (): void {
    for (const pid of this.#adopted) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
    this.#adopted.clear()
  }
}
