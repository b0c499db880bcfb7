import { fstatSync } from 'node:fs'
import { debuglog } from 'node:util'
import type { AttachableServer } from '../../types/handle.js'
import { ErrorCodes, GracefulError } from '../../support/errors.js'
import { describeWanted, matches, wantedBy, type Address } from './listen-address.js'
import type { Logger } from '../../types/lifecycle.js'
import { tellOldProcess, writePidFile } from './ready-pipe.js'

// The new process's side of an in-place restart (reload.ts is the old one's),
// and systemd socket activation: listening sockets inherited as file
// descriptors, handed to the servers that listen on their address (or, for a
// listen() that names none, in attach order), instead of binding. Without the
// environment below, nothing here does anything.

const debug = debuglog('graceful')

/** Set by reload.ts in the new process's environment. */
export const reloadEnv = {
  /** The inherited listening sockets, in the old process's attach order: `"3,4"`. */
  fds: 'GRACEFUL_RELOAD_FDS',
  /** Their addresses, same order, as JSON: `["127.0.0.1:3000","/run/app.sock"]`. */
  addresses: 'GRACEFUL_RELOAD_ADDRESSES',
  /** The pipe on which the new process says `ready`. */
  readyFd: 'GRACEFUL_RELOAD_READY_FD',
  /** The old process's PID: a grandchild that inherited the environment must not take the sockets. */
  parent: 'GRACEFUL_RELOAD_PPID',
} as const

/** How long a ready process may leave an inherited socket unclaimed (another server may still attach) before the reload fails, naming it. */
export const unclaimedGraceMs = 1000

interface InheritedSocket { fd: number, address: Address | null, server: AttachableServer | null }

export interface Inherited {
  source: 'reload' | 'systemd' | null
  sockets: InheritedSocket[]
  /** Attach position of each server still waiting for its listen(). */
  positions: WeakMap<AttachableServer, number>
  attachedSoFar: number
  readyFd: number | null
  /** The PID file was written (once per process). */
  pidWritten: boolean
  unclaimedTimer: NodeJS.Timeout | null
  /** A reload's new process whose old process died before it started: the PID it expected. */
  orphanedFrom?: number
  /**
   * The old process speaks this version's pipe protocol (it sent the
   * addresses): "ready <n>", "unclaimed …". An old process of an earlier
   * version waits for a bare "ready", so a reload across an upgrade still works.
   */
  counted?: boolean
}

// One per process, like the signal registry: descriptors are a process-wide
// resource, and two copies of this package must not hand one out twice.
const slotKey = Symbol.for('graceful.inherited-sockets.v2')
const globalSlot = globalThis as unknown as Record<symbol, Inherited | undefined>

function inherited (): Inherited {
  if (globalSlot[slotKey] === undefined) {
    const state = readEnvironment(process.env)
    if (state.orphanedFrom !== undefined) {
      // Started by a reload whose old process is gone (stopped, or killed)
      // before this one could start: binding on our own instead would
      // compete with whatever serves the address now. Exit, naming why.
      process.stderr.write(`graceful: this process was started by a reload of ${state.orphanedFrom}, which is gone: exiting instead of listening on its own\n`)
      process.exit(1)
    }
    globalSlot[slotKey] = state
  }
  return globalSlot[slotKey]
}

function empty (): Inherited {
  return { source: null, sockets: [], positions: new WeakMap(), attachedSoFar: 0, readyFd: null, pidWritten: false, unclaimedTimer: null }
}

/**
 * Reads (and removes, as `sd_listen_fds(1)` does, so no child process of the
 * app mistakes them for its own) the descriptors this process inherited.
 */
export function readEnvironment (env: NodeJS.ProcessEnv, pid = process.pid, ppid = process.ppid, alive = isAlive): Inherited {
  const fds = env[reloadEnv.fds]
  if (fds !== undefined) {
    const parent = Number(env[reloadEnv.parent])
    const readyFd = Number(env[reloadEnv.readyFd])
    const counted = env[reloadEnv.addresses] !== undefined
    const addresses = parseAddresses(env[reloadEnv.addresses])
    for (const key of Object.values(reloadEnv)) delete env[key]
    const list = fds.split(',').map(Number)
    if (!list.every(isFd) || !isFd(readyFd)) return empty()
    if (parent !== ppid) {
      // A grandchild that inherited the environment has no ready pipe, or a
      // living grandparent; the new process of a reload whose old one died has both.
      if (!alive(parent) && isOpen(readyFd)) return { ...empty(), orphanedFrom: parent }
      debug('ignoring %s=%s: not ours (parent %d, ours %d)', reloadEnv.fds, fds, parent, ppid)
      return empty()
    }
    debug('reloaded by %d: inherited fds %s (%o)', parent, fds, addresses)
    return { ...empty(), source: 'reload', sockets: list.map((fd, i) => ({ fd, address: addresses[i] ?? null, server: null })), readyFd, counted }
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
    if (!forUs || !Number.isInteger(count) || count < 1) return empty()
    debug('socket activation: %d fd(s) from 3', count)
    return { ...empty(), source: 'systemd', sockets: Array.from({ length: count }, (_, i) => ({ fd: 3 + i, address: null, server: null })) }
  }
  return empty()
}

function parseAddresses (text: string | undefined): (Address | null)[] {
  try {
    const value: unknown = JSON.parse(text ?? '[]')
    return Array.isArray(value) ? value.map((item) => typeof item === 'string' ? item : null) : []
  } catch {
    return []
  }
}

function isFd (value: number): boolean {
  return Number.isInteger(value) && value >= 3
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function isOpen (fd: number): boolean {
  try {
    fstatSync(fd)
    return true
  } catch {
    return false
  }
}

/** Where this process's listening sockets come from: a reload, systemd, or nowhere (`null`). */
export function inheritedSource (): 'reload' | 'systemd' | null {
  return inherited().source
}

/** The address a server listens on when Node cannot say (a UNIX socket opened from a descriptor). */
export function inheritedAddress (server: AttachableServer): Address | null {
  return inherited().sockets.find((socket) => socket.server === server)?.address ?? null
}

/** True when `server` listens on a socket this process inherited, rather than one it bound. */
export function isInherited (server: AttachableServer): boolean {
  return inherited().sockets.some((socket) => socket.server === server)
}

/**
 * The inherited socket for a `listen(...args)`: the one with the address it
 * names; for a listen() that names none (port 0, no arguments) or sockets
 * whose addresses are unknown (systemd), the one at `position`, else the
 * first left. Null when none is left; throws when the address named is not
 * among those inherited.
 */
function pick (state: Inherited, args: readonly unknown[], position: number | undefined): InheritedSocket | null {
  const free = state.sockets.filter((socket) => socket.server === null)
  if (free.length === 0) return null
  const wanted = wantedBy(args)
  if (wanted !== null && state.sockets.some((socket) => socket.address !== null)) {
    const found = free.find((socket) => matches(socket.address, wanted))
    if (found) return found
    throw new GracefulError(ErrorCodes.RELOAD_ADDRESS, `graceful: listen(${describeWanted(wanted)}) after a reload, but no socket handed over has that address ` +
      `(left: ${free.map((socket) => socket.address ?? `fd ${socket.fd}`).join(', ')}): a version that changes its addresses needs a restart, not a reload`)
  }
  const atPosition = position === undefined ? undefined : state.sockets[position]
  return atPosition?.server === null ? atPosition : (free[0] ?? null)
}

/**
 * For `g.listen(app, …)`, which calls `app.listen()` (and so `server.listen()`)
 * before it can attach: the arguments to pass instead, listening on the
 * inherited socket with the address `args` name, or `null` when there is
 * none. Throws when that address was not handed over. Call {@link claimed}
 * with the server afterwards.
 */
export function takeForListen (args: readonly unknown[]): { fd: number, args: [{ fd: number }, ...unknown[]] } | null {
  const state = inherited()
  const socket = pick(state, args, undefined)
  if (socket === null) return null
  socket.server = placeholder
  return { fd: socket.fd, args: withFd(socket.fd, args) }
}

// Holds a socket between takeForListen() and claimed().
const placeholder = {} as AttachableServer

/** Records that `server` took an inherited socket through {@link takeForListen}. */
export function claimed (server: AttachableServer): void {
  const socket = inherited().sockets.find((candidate) => candidate.server === placeholder)
  if (socket) socket.server = server
}

/**
 * At `attach()`: while inherited sockets are left, the server's next
 * `listen()` listens on the inherited socket with the address it names (see
 * {@link pick}) instead of binding. A server already listening, or one
 * `g.listen` already gave a socket, is left alone. An address that was not
 * handed over is the server's `'error'`, as EADDRINUSE would be.
 */
export function claimOnAttach (server: AttachableServer): void {
  const state = inherited()
  if (server.listening || state.sockets.every((socket) => socket.server !== null) || isInherited(server)) return
  state.positions.set(server, state.attachedSoFar++)
  const own = Object.getOwnPropertyDescriptor(server, 'listen')
  // An own property, removed on first use: the class's listen is untouched.
  Object.defineProperty(server, 'listen', {
    configurable: true,
    writable: true,
    value: function gracefulInheritedListen (this: AttachableServer, ...args: unknown[]) {
      if (own) Object.defineProperty(server, 'listen', own)
      else delete (server as unknown as Record<string, unknown>).listen
      let socket: InheritedSocket | null
      try {
        socket = pick(state, args, state.positions.get(server))
      } catch (error) {
        process.nextTick(() => server.emit('error', error))
        return server
      }
      if (socket === null) return (server.listen as (...a: unknown[]) => AttachableServer)(...args)
      socket.server = server
      debug('listen on inherited fd %d (%s) for %o', socket.fd, socket.address, args.filter((arg) => typeof arg !== 'function'))
      return (server.listen as (...a: unknown[]) => AttachableServer)(...withFd(socket.fd, args))
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
 * inherited pipe: it then drains. Ready with a socket still unclaimed for
 * {@link unclaimedGraceMs}: tells the old process which, and it fails the reload.
 */
export function signalReady (ready: boolean, pidFile: string | null, log: Logger): void {
  const state = inherited()
  if (!ready) return
  const unclaimed = state.sockets.filter((socket) => socket.server === null)
  if (unclaimed.length > 0) {
    if (state.readyFd !== null && state.counted === true && state.unclaimedTimer === null) {
      state.unclaimedTimer = setTimeout(() => {
        const left = state.sockets.filter((socket) => socket.server === null)
        if (left.length === 0 || state.readyFd === null) return
        tellOldProcess(state.readyFd, `unclaimed ${left.map((socket) => socket.address ?? `fd ${socket.fd}`).join(', ')}`)
        state.readyFd = null
      }, unclaimedGraceMs)
      state.unclaimedTimer.unref()
    }
    return
  }
  if (state.sockets.some((socket) => socket.server !== null && !socket.server.listening)) return
  if (pidFile !== null && !state.pidWritten) {
    state.pidWritten = true
    writePidFile(pidFile, log)
  }
  if (state.readyFd === null) return
  tellOldProcess(state.readyFd, state.counted === true ? `ready ${state.sockets.length}` : 'ready')
  state.readyFd = null
}
