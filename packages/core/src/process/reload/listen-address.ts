import { resolve } from 'node:path'
import type { AttachableServer } from '../../types/handle.js'

// Addresses of listening sockets, as a reload names and matches them: the old
// process sends each inherited socket's address, and the new one gives a
// `listen()` the inherited socket *with the address it asks for*, so swapping
// the attach order between two versions cannot swap the ports.

/** `127.0.0.1:3000`, `[::]:3000`, or a UNIX socket's path; null when unknown. */
export type Address = string

/** What a server listens on now, in the form {@link Address}. */
export function addressOf (server: AttachableServer): Address | null {
  const address = server.address()
  if (typeof address === 'string') return address
  if (address === null) return null
  return address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`
}

/** What a `listen()` call asks for: a path, a port (and maybe a host), or nothing specific (port 0, a handle, no arguments). */
export type Wanted = { path: string } | { port: number, host: string | null } | null

/** Reads `server.listen(...args)` the way node:net does (port, host, backlog, callback / path / options). */
export function wantedBy (args: readonly unknown[]): Wanted {
  const first = args[0]
  if (typeof first === 'object' && first !== null) {
    const options = first as { port?: unknown, host?: unknown, path?: unknown }
    if (typeof options.path === 'string') return { path: options.path }
    return portSpec(options.port, options.host)
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first }
  return portSpec(first, args[1])
}

function portSpec (port: unknown, host: unknown): Wanted {
  const number = typeof port === 'string' ? Number(port) : port
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) return null
  return { port: number, host: typeof host === 'string' ? host : null }
}

const anyHost = new Set(['0.0.0.0', '::', ''])

/** True when an inherited socket at `address` is what `wanted` asks for. */
export function matches (address: Address | null, wanted: Wanted): boolean {
  if (address === null || wanted === null) return false
  // A TCP address never resolves to the same absolute path as a socket file.
  if ('path' in wanted) return resolve(address) === resolve(wanted.path)
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address)
  if (!match || Number(match[2]) !== wanted.port) return false
  const host = match[1] ?? ''
  // No host asked for, or the same one; "any" covers both families (Node listens on :: for "no host").
  return wanted.host === null || wanted.host === host || (anyHost.has(wanted.host) && anyHost.has(host)) ||
    (wanted.host === 'localhost' && (host === '127.0.0.1' || host === '::1'))
}

/** How an error names what a `listen()` asked for. */
export function describeWanted (wanted: Wanted): string {
  if (wanted === null) return 'any address'
  return 'path' in wanted ? wanted.path : `${wanted.host ?? '*'}:${wanted.port}`
}
