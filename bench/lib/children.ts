import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { now } from '@graceful/test-kit/client'
import { Processes } from '@graceful/test-kit/processes'
import { compiled } from './compile.js'

/** Where the bench keeps scratch files (request-id logs). Git-ignored. */
export const tmpDir = fileURLToPath(new URL('../.tmp/', import.meta.url))
const probe = fileURLToPath(new URL('./probe.ts', import.meta.url))

// Every child this process started (the same registry the end-to-end tests use), so
// that each one is killed by its PID on the way out, whatever happened.
const processes = new Processes()

/** Kills every child still alive, by PID. Synchronous, so it also works in an `exit` handler. */
export function killAll (): void {
  processes.killAllNow()
}

let guarded = false
/** Kill the children on exit and on Ctrl-C; call once from each entry point. */
export function guardChildren (): void {
  if (guarded) return
  guarded = true
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(128 + (constants.signals[signal] ?? 0))
    })
  }
}

/** How a child ended, seen from here. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** `now()` (client.ts) when this process saw the exit. */
  at: number
  /**
   * `now()` in the child when its `'exit'` event began (written by the probe):
   * what comes after is the kernel tearing the process down, which a kill at
   * that moment would cost as well. Null when a signal killed it.
   */
  exitEventAt: number | null
  /** `now()` in the child when its last HTTP/1 response finished (drain scenarios only, else null). */
  lastResponseAt: number | null
}

/** ms from the child's `'exit'` event to the exit seen here: the kernel's teardown (null if killed by a signal). */
export function teardownMs (exit: Exit): number | null {
  return exit.exitEventAt === null ? null : Math.max(0, exit.at - exit.exitEventAt)
}

/** A number to print for an exit: the code, or 128 + signal number. */
export function exitStatus (exit: Exit): number {
  if (exit.code !== null) return exit.code
  return 128 + (exit.signal ? constants.signals[exit.signal] ?? 0 : 0)
}

/** `0`, `124`, or `SIGTERM (143)` when a signal killed it. */
export function describeExit (exit: Exit): string {
  return exit.signal ? `${exit.signal} (${exitStatus(exit)})` : String(exit.code)
}

/** CPU time of a process, all threads. */
export interface CpuSample {
  /** utime + stime from /proc/<pid>/stat, in clock ticks (usually 10 ms each). */
  ticks: number
  /** Sum of /proc/<pid>/task/<tid>/schedstat run time, in nanoseconds. */
  ns: number
}

/** Reads CPU time of any process on this machine from /proc. */
export function readCpu (pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { ticks, ns }
}

/** What the probe (preloaded into every server child) reports on request. */
export interface MemorySample {
  heapUsed: number
  rss: number
  external: number
}

/** A server under test. */
export interface ServerSpec {
  /** Shown in tables: `fastify`, `http-terminator`, … */
  name: string
  /** The server's entry file (TypeScript, run through tsx). */
  file: string
  /** Extra environment, e.g. `{ GRACEFUL: '0' }`. */
  env?: Record<string, string>
  /** Which side of the comparison it is on: ours, the bare framework, or an alternative library. Tables group by it. */
  group: ServerGroup
  /** The framework it runs on (`node:http`, `fastify`, …): tables group rows by it, never by the name. */
  framework: string
  /** Shown, but not held to the hot-path contract: why (a stress setting that makes the server do more work on purpose). */
  stress?: string
}

export type ServerGroup = 'graceful' | 'bare' | 'alternative'

export interface StartOptions {
  /** `TIMEOUT` in ms. @default 10_000 */
  timeout?: number
  /** `READINESS_DELAY` in ms. @default 0 */
  readinessDelay?: number
  /** Log the id of every request the server parses into this file (see probe.ts). */
  idsFile?: string
  /** Run with `--expose-gc`, so `memory()` measures after a full collection. */
  gc?: boolean
  /** Raise or lower the open-files limit of the child (`ulimit -n`). */
  maxFiles?: number
  /** How long to wait for `listening <port>`. @default 20_000 */
  startTimeout?: number
}

export interface RunningServer {
  name: string
  pid: number
  port: number
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** Resolves when the process is gone. */
  exited: Promise<Exit>
  /** True until the exit was seen. */
  readonly alive: boolean
  /** Sends a signal; returns `now()` just before it. */
  signal: (signal: NodeJS.Signals) => number
  cpu: () => CpuSample
  /** Heap and RSS after a full GC (needs `gc: true`), asked through the probe. */
  memory: () => Promise<MemorySample>
  /** The last lines the child wrote to stderr, for error messages. */
  stderr: () => string
  /** SIGKILL if still alive, then wait for the exit. */
  stop: () => Promise<Exit>
}

/**
 * Starts a server child as it runs in production: its compiled JavaScript
 * (`compile.ts`) with plain `node`, bound to
 * 127.0.0.1 on a free port, with the probe preloaded. Resolves once it
 * printed `listening <port>`.
 */
export async function startServer (spec: ServerSpec, options: StartOptions = {}): Promise<RunningServer> {
  const [file, probeFile] = await Promise.all([compiled(spec.file), compiled(probe)])
  const args = ['--import', probeFile]
  if (options.gc) args.unshift('--expose-gc')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    // The example apps leave both to graceful, which reads GRACEFUL_*; the
    // bench's own servers (and the alternatives they wrap) read the short names.
    TIMEOUT: String(options.timeout ?? 10_000),
    READINESS_DELAY: String(options.readinessDelay ?? 0),
    GRACEFUL_TIMEOUT: String(options.timeout ?? 10_000),
    GRACEFUL_READINESS_DELAY: String(options.readinessDelay ?? 0),
    NODE_ENV: 'production',
    ...spec.env,
  }
  const exitFile = join(tmpDir, `exit-${process.pid}-${++serverCount}.txt`)
  mkdirSync(tmpDir, { recursive: true })
  env.BENCH_EXIT_FILE = exitFile
  if (options.idsFile) {
    mkdirSync(dirname(options.idsFile), { recursive: true })
    env.BENCH_IDS_FILE = options.idsFile
  }
  // `ulimit -n` cannot be set from Node: a shell sets it for the child only.
  const command = options.maxFiles
    ? { file: '/bin/sh', args: ['-c', `ulimit -n ${options.maxFiles} && exec "$0" "$@"`, process.execPath, ...args, file] }
    : { file: process.execPath, args: [...args, file] }
  const started = processes.spawn(spec.name, command.file, command.args, { cwd: dirname(spec.file), env, ipc: true })
  const { child, pid } = started
  const errTail = () => started.output().slice(-4000)
  let alive = true
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      const at = now()
      alive = false
      resolve({ code, signal, at, ...readExitEvent(exitFile) })
    })
  })
  // Replies of the probe, answered in order.
  const pending: ((sample: MemorySample) => void)[] = []
  child.on('message', (message: { type?: string } & MemorySample) => {
    if (message.type === 'memory') pending.shift()?.(message)
  })

  const startTimeout = options.startTimeout ?? 20_000
  const port = await started.line(/^listening (\d+)\s*$/, startTimeout).then((match) => Number(match[1]), async (error: unknown) => {
    if (alive) process.kill(pid, 'SIGKILL')
    await exited
    throw new Error(`${spec.name}: ${(error as Error).message}\n${errTail().trim()}`)
  })

  const server: RunningServer = {
    name: spec.name,
    pid,
    port,
    origin: `http://127.0.0.1:${port}`,
    exited,
    get alive () { return alive },
    signal: (signal) => {
      const at = now()
      process.kill(pid, signal)
      return at
    },
    cpu: () => readCpu(pid),
    memory: () => new Promise<MemorySample>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name}: the probe did not answer`)), 10_000)
      pending.push((sample) => {
        clearTimeout(timer)
        resolve(sample)
      })
      child.send({ type: 'memory' })
    }),
    stderr: errTail,
    stop: async () => {
      if (alive) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      return exited
    },
  }
  return server
}

let serverCount = 0

function readExitEvent (file: string): Pick<Exit, 'exitEventAt' | 'lastResponseAt'> {
  try {
    const { exitAt, lastResponseAt } = JSON.parse(readFileSync(file, 'utf8')) as { exitAt?: unknown, lastResponseAt?: unknown }
    const time = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null
    return { exitEventAt: time(exitAt), lastResponseAt: time(lastResponseAt) }
  } catch {
    return { exitEventAt: null, lastResponseAt: null }
  } finally {
    rmSync(file, { force: true })
  }
}

/**
 * Last response → the `'exit'` event, both on the child's clock. Without the
 * child's record: the last response a client read → the exit seen here, minus
 * the teardown.
 */
export function lastResponseToExitMs (exit: Exit, clientLastResponse: number, since: number): number | null {
  if (exit.lastResponseAt !== null && exit.exitEventAt !== null) return exit.lastResponseAt > since ? exit.exitEventAt - exit.lastResponseAt : null
  if (!(clientLastResponse > since)) return null
  return exit.at - clientLastResponse - (teardownMs(exit) ?? 0)
}

/** Starts several servers at once; if one fails, the others are stopped. */
export async function startServers (specs: ServerSpec[], options: StartOptions = {}): Promise<RunningServer[]> {
  const started = await Promise.allSettled(specs.map((spec) => startServer(spec, options)))
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) {
    await Promise.all(started.map((result) => result.status === 'fulfilled' ? result.value.stop() : undefined))
    throw failed.reason
  }
  return started.map((result) => (result as PromiseFulfilledResult<RunningServer>).value)
}

/** Stops every server given (SIGKILL by PID where still alive). */
export async function stopAll (servers: readonly RunningServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.stop()))
}

/** Resolves `path` against the repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
export const fromRoot = (...parts: string[]): string => join(repoRoot, ...parts)
