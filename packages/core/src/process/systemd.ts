import { spawn } from 'node:child_process'
import cluster from 'node:cluster'
import { existsSync } from 'node:fs'
import { debuglog } from 'node:util'
import { noop } from '../support/noop.js'
import type { Logger, ReloadResult } from '../types/lifecycle.js'

// Telling systemd the truth (sd_notify(3)) under `Type=notify` or
// `Type=notify-reload`: READY=1 at startup, RELOADING=1 when a reload starts,
// READY=1 with the new MAINPID after the hand-over (or READY=1 with a STATUS
// when it failed), STOPPING=1 when the drain that ends the process starts.
//
// Only when systemd set NOTIFY_SOCKET. The socket is a unix *datagram* socket,
// which Node cannot open (node:dgram is UDP only, node:net is streams only),
// and a native addon is out. So each message is one run of `systemd-notify`,
// the sender systemd ships wherever it runs (Debian's `systemd` package, every
// distribution's): `systemd-notify KEY=VALUE…`. It handles abstract sockets
// (`@…`), and since systemd 246 it waits (BARRIER=1, at most 5 s) until
// systemd has processed the message, so a message is never lost to the race
// of a sender that exited before systemd looked it up. Its sender is its own
// PID (or, as root, the caller's): the unit needs `NotifyAccess=all`
// (deploy/README.md). Messages go out one at a time, in order; a failure is
// logged once and never delays or stops a drain.
// https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html
// https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#Type=

const debug = debuglog('graceful')

/** What graceful tells systemd. Every method returns at once; nothing throws. */
export interface SystemdNotifier {
  /** Startup is complete (sent once; never by a process a reload started: its old one speaks for it). */
  ready: () => void
  /** A reload starts (`RELOADING=1` with `MONOTONIC_USEC`, which `Type=notify-reload` requires). */
  reloading: () => void
  /** The reload's one outcome: the new process is the main one now, or this one keeps serving. */
  outcome: (result: ReloadResult) => void
  /**
   * The drain that ends this process starts. Returns what the drain waits for
   * (STOPPING=1 and everything queued before it delivered, or failed); null
   * when systemd did not ask: nothing to wait for.
   */
  stopping: () => Promise<void> | null
  /** Resolves once every message sent so far was delivered or failed (each run is bounded). */
  flush: () => Promise<void>
}

export interface SystemdParts {
  log: Logger
  /** systemd's socket: {@link processNotifySocket}; null: tell nobody. */
  socket: string | null
  /** The sender; tests point it elsewhere. @default systemd's own (`/usr/bin/systemd-notify`), else found on PATH */
  command?: string
  /** Startup READY=1 is not this process's to send: a reload started it. */
  reloadChild?: boolean
}

// systemd-notify waits at most 5 s for its barrier; a hung one is killed a bit later.
const runTimeoutMs = 6_000

// One per process, like the inherited sockets (inherit.ts): the environment is the process's.
const slotKey = Symbol.for('graceful.notify-socket.v1')
const globalSlot = globalThis as unknown as Record<symbol, { socket: string | null } | undefined>

/**
 * NOTIFY_SOCKET, read once per process and removed from its environment (as
 * `sd_notify(1, …)` does), so that no child process of the app (a worker
 * running graceful too) speaks for the service: a worker's STOPPING=1 would
 * stop it. A process a reload starts gets it back (reload.ts's child
 * environment). Never in a cluster worker: the primary speaks.
 */
export function processNotifySocket (env: NodeJS.ProcessEnv = process.env): string | null {
  globalSlot[slotKey] ??= { socket: takeSocket(env) }
  return globalSlot[slotKey].socket
}

/** NOTIFY_SOCKET, removed from `env`; null outside systemd and in cluster workers. */
export function takeSocket (env: NodeJS.ProcessEnv): string | null {
  const socket = env.NOTIFY_SOCKET
  delete env.NOTIFY_SOCKET
  if (socket === undefined || socket === '' || cluster.isWorker) return null
  return socket
}

/** A notifier, or one that does nothing when systemd did not ask (no NOTIFY_SOCKET). */
export function createSystemdNotifier (parts: SystemdParts): SystemdNotifier {
  if (parts.socket === null) return silent
  const socket = parts.socket
  // Where systemd installs it first: a unit's Environment=PATH=… may leave /usr/bin out.
  const command = parts.command ?? (['/usr/bin/systemd-notify', '/bin/systemd-notify'].find((path) => existsSync(path)) ?? 'systemd-notify')
  let tail: Promise<void> = Promise.resolve()
  let missing = false
  let failedOnce = false
  let readySent = parts.reloadChild === true

  function send (...fields: string[]): void {
    if (missing) return
    tail = tail.then(() => run(fields))
  }

  function run (fields: string[]): Promise<void> {
    if (missing) return Promise.resolve()
    return new Promise<void>((resolve) => {
      let stderr = ''
      let child
      try {
        child = spawn(command, fields, { env: { ...process.env, NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'], timeout: runTimeoutMs })
      } catch (error) {
        report(error as Error, fields)
        return resolve()
      }
      // Never what keeps the process alive: a reload's exit waits for flush(), bounded.
      child.unref()
      child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
      ;(child.stderr as { unref?: () => void } | null)?.unref?.()
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          missing = true
          parts.log.warn({ command, socket }, 'graceful: NOTIFY_SOCKET is set but systemd-notify was not found: systemd is not told about readiness, reloads or stopping (install systemd\'s systemd-notify, or unset NOTIFY_SOCKET)')
        } else {
          report(error, fields)
        }
        resolve()
      })
      child.once('close', (code, signal) => {
        if (code === 0) debug('systemd: sent %o', fields)
        else report(new Error(stderr.trim() || `systemd-notify ended (${signal ?? `code ${code}`})`), fields)
        resolve()
      })
    })
  }

  function report (error: Error, fields: string[]): void {
    debug('systemd: could not send %o: %s', fields, error.message)
    if (failedOnce) return
    failedOnce = true
    parts.log.warn({ err: error, socket, fields }, 'graceful: could not notify systemd (logged once; the drain and reloads go on)')
  }

  return {
    ready () {
      if (readySent) return
      readySent = true
      // MAINPID too: started through a wrapper (npm start, a shell), systemd would watch the wrapper.
      send('READY=1', `MAINPID=${process.pid}`, 'STATUS=ready')
    },
    reloading () {
      // CLOCK_MONOTONIC in µs: libuv's hrtime reads CLOCK_MONOTONIC on Linux.
      const monotonicUs = process.hrtime.bigint() / 1000n
      send('RELOADING=1', `MONOTONIC_USEC=${monotonicUs}`, 'STATUS=reloading: starting a new process')
    },
    outcome (result) {
      readySent = true
      if (result.ok) {
        send('READY=1', `MAINPID=${result.pid}`, `STATUS=ready (reloaded: process ${result.pid} serves)`)
        return
      }
      // systemd has no "reload failed" message yet (systemd/systemd#39745):
      // READY=1 ends the reload (else `systemctl reload` hangs until its
      // timeout), the old main PID stays, and the status line says why.
      send('READY=1', `STATUS=reload failed, process ${process.pid} keeps serving: ${oneLine(result.reason)}`)
    },
    stopping () {
      send('STOPPING=1', 'STATUS=draining')
      return tail
    },
    flush: () => tail,
  }
}

function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200)
}

const silent: SystemdNotifier = {
  ready: noop,
  reloading: noop,
  outcome: noop,
  stopping: () => null,
  flush: () => Promise.resolve(),
}
