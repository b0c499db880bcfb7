import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, vi } from 'vitest'
import { patience, within } from './deferred.js'
import { openConnection, type RawConnection, type RawResponse } from './raw-connection.js'

// The fixture app lives with the conformance targets it serves (test/fixtures, test/targets).
const fixture = fileURLToPath(new URL('../../fixtures/serve.ts', import.meta.url))

export interface LogLine { level: string, msg: string, fields: Record<string, unknown> }

/** A forked app that gets real signals. `await using` kills it by PID if the test did not. */
export interface ChildApp extends AsyncDisposable {
  child: ChildProcess
  port: number
  logs: LogLine[]
  /** Everything the child wrote to stderr so far. */
  readonly stderr: string
  hooks: string[]
  /** Routes now holding a request in the child (`slow`, `stream`). */
  held: string[]
  /** Signals the child's own listener saw, after graceful's (with `REPORT_SIGNALS=1`). */
  signals: string[]
  /** Exit code (or signal name) and the ms since `kill()` was last called. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null, msSinceSignal: number }>
  kill: (signal: NodeJS.Signals) => void
  send: (message: string) => void
}

/**
 * How far past its budget a forked child may exit before a test calls it late: a wide margin,
 * for a busy two-core machine, over the contract's "timeout, plus a few milliseconds".
 */
export const exitMargin = 1500

/** The child's exit, waited for no longer than `budgetMs` plus {@link exitMargin}. */
export function exitWithin (app: ChildApp, budgetMs: number): ChildApp['exited'] {
  return within(app.exited, budgetMs + exitMargin, 'exit')
}

export async function startChild (target: string, options: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<ChildApp> {
  const child = fork(fixture, {
    execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
    env: { ...process.env, TARGET: target, OPTIONS: JSON.stringify(options), NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const logs: LogLine[] = []
  const hooks: string[] = []
  const held: string[] = []
  const signals: string[] = []
  let signalledAt = 0
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null, msSinceSignal: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, msSinceSignal: Date.now() - signalledAt }))
  })
  const port = await within(new Promise<number>((resolve, reject) => {
    child.on('message', (message: { type: string, port?: number, name?: string } & LogLine) => {
      if (message.type === 'listening') resolve(message.port ?? 0)
      if (message.type === 'log') logs.push({ level: message.level, msg: message.msg, fields: message.fields })
      if (message.type === 'hook') hooks.push(message.name ?? '')
      if (message.type === 'held') held.push(message.name ?? '')
      if (message.type === 'signal') signals.push(message.name ?? '')
    })
    void exited.then(({ code }) => reject(new Error(`child exited (${code}) before listening: ${stderr}`)))
  }), 15_000, `${target} child to listen`)

  return {
    child,
    port,
    logs,
    get stderr () { return stderr },
    hooks,
    held,
    signals,
    exited,
    kill: (signal) => {
      signalledAt = Date.now()
      child.kill(signal)
    },
    send: (message) => { child.send(message) },
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    },
  }
}

/** A request the child holds open: `await using` closes its connection. */
export interface HeldRequest extends AsyncDisposable {
  connection: RawConnection
  /** Settles when the child answers: on {@link HeldRequest.release}, or with the deadline's 503. */
  response: Promise<RawResponse>
  /** Tells the child to answer it (`release-slow`); its response. */
  release: () => Promise<RawResponse>
}

/**
 * Sends `/slow` (the fixture holds it until told) on a fresh keep-alive connection, and
 * resolves once the request reached the child: what a test needs in flight before its signal.
 */
export async function holdRequest (app: ChildApp): Promise<HeldRequest> {
  const before = app.held.length
  const connection = await openConnection(app.port)
  const response = connection.request('/slow')
  try {
    await vi.waitFor(() => expect(app.held.length, 'the request to reach the child').toBe(before + 1), patience)
  } catch (error) {
    await connection[Symbol.asyncDispose]()
    throw error
  }
  return {
    connection,
    response,
    release: () => {
      app.send('release-slow')
      return response
    },
    [Symbol.asyncDispose]: () => connection[Symbol.asyncDispose](),
  }
}
