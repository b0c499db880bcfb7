import { closeSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { debuglog } from 'node:util'
import type { AttachableServer } from './connections.js'

// The new process's side of an in-place restart (reload.ts is the old one's),
// and systemd socket activation: listening sockets inherited as file
// descriptors, handed to the attached servers in attach order, instead of
// binding. Without the environment below, nothing here does anything.

const debug = debuglog('graceful')

/** Set by reload.ts in the new process's environment. */
export const reloadEnv = {
  /** The inherited listening sockets, in the old process's attach order: `"3,4"`. */
  fds: 'GRACEFUL_RELOAD_FDS',
  /** The pipe on which the new process says `ready`. */
  readyFd: 'GRACEFUL_RELOAD_READY_FD',
  /** The old process's PID: a grandchild that inherited the environment must not take the sockets. */
  parent: 'GRACEFUL_RELOAD_PPID',
} as const

interface Inherited {
  source: 'reload' | 'systemd' | null
  /** Descriptors not yet claimed, in order. */
  pending: number[]
  /** Servers that took an inherited socket. */
  claimed: Set<AttachableServer>
  readyFd: number | null
  /** The PID file was written (once per process). */
  pidWritten: boolean
}

// One per process, like the signal registry: descriptors are a process-wide
// resource, and two copies of this package must not hand one out twice.
const slotKey = Symbol.for('graceful.inherited-sockets.v1')
const globalSlot = globalThis as unknown as Record<symbol, Inherited | undefined>

function inherited (): Inherited {
  globalSlot[slotKey] ??= readEnvironment(process.env)
  return globalSlot[slotKey]
}

/**
 * Reads (and removes, as `sd_listen_fds(1)` does, so no child process of the
 * app mistakes them for its own) the descriptors this process inherited.
 */
export function readEnvironment (env: NodeJS.ProcessEnv, pid = process.pid, ppid = process.ppid): Inherited {
  const none: Inherited = { source: null, pending: [], claimed: new Set(), readyFd: null, pidWritten: false }
  const fds = env[reloadEnv.fds]
  if (fds !== undefined) {
    const parent = Number(env[reloadEnv.parent])
    const readyFd = Number(env[reloadEnv.readyFd])
    delete env[reloadEnv.fds]
    delete env[reloadEnv.parent]
    delete env[reloadEnv.readyFd]
    const list = fds.split(',').map(Number)
    if (parent !== ppid || !list.every(isFd) || !isFd(readyFd)) {
      debug('ignoring %s=%s: not ours (parent %d, ours %d)', reloadEnv.fds, fds, parent, ppid)
      return none
    }
    debug('reloaded by %d: inherited fds %s', parent, fds)
    return { source: 'reload', pending: list, claimed: new Set(), readyFd, pidWritten: false }
  }
  // systemd socket activation: LISTEN_FDS sockets start at fd 3 (SD_LISTEN_FDS_START).
  // https://www.freedesktop.org/software/systemd/man/latest/sd_listen_fds.html
  if (env.LISTEN_FDS !== undefined && env.LISTEN_PID !== undefined) {
    const count = Number(env.LISTEN_FDS)
    const forUs = Number(env.LISTEN_PID) === pid
    if (forUs) {
      delete env.LISTEN_FDS
      delete env.LISTEN_PID
      delete env.LISTEN_FDNAMES
    }
    if (!forUs || !Number.isInteger(count) || count < 1) return none
    debug('socket activation: %d fd(s) from 3', count)
    return { source: 'systemd', pending: Array.from({ length: count }, (_, i) => 3 + i), claimed: new Set(), readyFd: null, pidWritten: false }
  }
  return none
}

function isFd (value: number): boolean {
  return Number.isInteger(value) && value >= 3
}

/** Where this process's listening sockets come from: a reload, systemd, or nowhere (`null`). */
export function inheritedSource (): 'reload' | 'systemd' | null {
  return inherited().source
}

/** Inherited sockets still waiting for a server to attach. */
export function pendingSockets (): number {
  return inherited().pending.length
}

/**
 * For `g.listen(app, …)`, which calls `app.listen()` (and so `server.listen()`)
 * before it can attach: the arguments to pass instead, listening on the next
 * inherited socket, or `null` when there is none. Call {@link claimed} with
 * the server afterwards.
 */
export function takeForListen (args: readonly unknown[]): { fd: number, args: [{ fd: number }, ...unknown[]] } | null {
  const state = inherited()
  const fd = state.pending.shift()
  if (fd === undefined) return null
  return { fd, args: withFd(fd, args) }
}

/** Records that `server` took an inherited socket through {@link takeForListen}. */
export function claimed (server: AttachableServer): void {
  inherited().claimed.add(server)
}

/**
 * At `attach()`: if an inherited socket is waiting for this server's
 * position, the server's next `listen()` (whatever address it names) listens
 * on that socket instead of binding. A server already listening, or one
 * `g.listen` already gave a socket, is left alone.
 */
export function claimOnAttach (server: AttachableServer): void {
  const state = inherited()
  if (state.pending.length === 0 || state.claimed.has(server) || server.listening) return
  const fd = state.pending.shift() as number
  state.claimed.add(server)
  const own = Object.getOwnPropertyDescriptor(server, 'listen')
  // An own property, removed on first use: the class's listen is untouched.
  Object.defineProperty(server, 'listen', {
    configurable: true,
    writable: true,
    value: function gracefulInheritedListen (this: AttachableServer, ...args: unknown[]) {
      if (own) Object.defineProperty(server, 'listen', own)
      else delete (server as unknown as Record<string, unknown>).listen
      debug('listen on inherited fd %d instead of %o', fd, args.filter((arg) => typeof arg !== 'function'))
      return (server.listen as (...a: unknown[]) => AttachableServer)(...withFd(fd, args))
    },
  })
}

/** `server.listen(...args)` → `server.listen({ fd }, callback)`: the address named is the inherited socket's. */
function withFd (fd: number, args: readonly unknown[]): [{ fd: number }, ...unknown[]] {
  const callback = args.find((arg) => typeof arg === 'function')
  return callback === undefined ? [{ fd }] : [{ fd }, callback]
}

/**
 * Called whenever readiness may have changed. Once every inherited socket is
 * claimed and listening and the instance is ready: writes the PID file (if
 * any; before the old process can exit, so systemd's `PIDFile=` moves the
 * main PID here), then, after a reload, tells the old process (once) on the
 * inherited pipe: it then drains.
 */
export function signalReady (ready: boolean, pidFile: string | null = null): void {
  const state = inherited()
  if (!ready || state.pending.length > 0) return
  for (const server of state.claimed) if (!server.listening) return
  if (pidFile !== null && !state.pidWritten) {
    state.pidWritten = true
    writePidFile(pidFile)
  }
  if (state.readyFd === null) return
  const fd = state.readyFd
  state.readyFd = null
  try {
    writeSync(fd, 'ready\n')
  } catch (error) {
    // The old process is gone (EPIPE): nobody is waiting for the news.
    debug('could not tell the old process: %s', (error as Error).message)
  }
  try {
    closeSync(fd)
  } catch {
    // Already closed.
  }
  debug('told the old process: ready')
}

/** Atomically (write, then rename), so a reader never sees a half-written PID. */
function writePidFile (path: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${process.pid}\n`)
  renameSync(temporary, path)
  debug('wrote %d to %s', process.pid, path)
}
