import { createServer, type AddressInfo, type ListenOptions, type Server as NetServer } from 'node:net'
import type { Server, ServerCredentials } from '@grpc/grpc-js'
import type { Logger } from '@graceful/core'
import type { AdapterView } from '@graceful/core/adapter'

// With the core's `reload` on, graceful owns the gRPC server's listening
// sockets, so an in-place restart hands them to the new process like the HTTP
// ones. grpc-js binds its own sockets, out of anyone's reach; since 1.11 it
// can also serve connections accepted by someone else
// (`Server.createConnectionInjector`). So `server.bindAsync()` is replaced, on
// the attached server only: it creates a `net.Server` the core hands over
// (`attachListener`), listens on the address, and injects each connection it
// accepts into grpc-js. Without `reload`, grpc-js binds as it always does.

type BindCallback = (error: Error | null, port: number) => void

/** What a graceful-owned listener needs from grpc-js (1.11+). */
interface Injectable {
  createConnectionInjector?: (credentials: ServerCredentials) => { injectConnection: (socket: NodeJS.ReadWriteStream) => void, destroy: () => void }
}

/** One address grpc-js would bind, as `net.Server.listen()` takes it; `null` for forms it cannot take. */
export function listenOptions (port: string): ListenOptions | null {
  // `unix:relative` or `unix:///absolute` (grpc-js's forms).
  if (port.startsWith('unix:')) {
    const path = port.startsWith('unix://') ? port.slice('unix://'.length) : port.slice('unix:'.length)
    return path === '' ? null : { path }
  }
  const address = port.replace(/^dns:(\/\/\/)?/, '').replace(/^ipv[46]:/, '')
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(address) ?? /^([^:[\]/]+):(\d+)$/.exec(address)
  if (!match) return null
  const portNumber = Number(match[2])
  if (!Number.isInteger(portNumber) || portNumber > 65535) return null
  return { host: match[1], port: portNumber }
}

export interface OwnedBinding {
  /** The listeners created so far (closed at the drain start). */
  readonly listeners: readonly NetServer[]
  /** Puts grpc-js's own `bindAsync` back; listeners already bound stay. */
  restore: () => void
}

/**
 * Replaces `server.bindAsync` (an own property, removed by `restore`: the
 * class's method is untouched) with one that binds through a graceful-owned
 * listener. Same signature and callback as grpc-js's.
 */
export function ownBindings (server: Server, view: AdapterView, log: Logger): OwnedBinding {
  const listeners: NetServer[] = []
  const detaches: (() => void)[] = []
  const own = Object.getOwnPropertyDescriptor(server, 'bindAsync')
  const injectable = server as Server & Injectable

  function gracefulBindAsync (port: string, credentials: ServerCredentials, callback: BindCallback): void {
    if (typeof port !== 'string') throw new TypeError('port must be a string')
    if (typeof callback !== 'function') throw new TypeError('callback must be a function')
    const options = listenOptions(port)
    if (options === null) {
      process.nextTick(callback, new Error(`graceful: with reload on, gRPC listens through graceful, which takes "host:port", "[ipv6]:port" or "unix:path", not "${port}"`), 0)
      return
    }
    // Throws grpc-js's own TypeError for credentials that are not ServerCredentials, as bindAsync does.
    const injector = injectable.createConnectionInjector!(credentials)
    const listener = createServer()
    listener.on('connection', (socket) => { injector.injectConnection(socket) })
    listeners.push(listener)
    detaches.push(view.attachListener(listener))
    const failed = (error: Error) => {
      injector.destroy()
      callback(error, 0)
    }
    listener.once('error', failed)
    listener.listen(options, () => {
      listener.off('error', failed)
      // accept() errors (EMFILE…) come as 'error' events: reported, never a crash.
      listener.on('error', (error) => log.error({ err: error, port }, 'graceful: gRPC listener error'))
      const address = listener.address()
      // grpc-js reports 1 for a unix socket.
      callback(null, typeof address === 'object' && address !== null ? (address as AddressInfo).port : 1)
    })
  }

  if (typeof injectable.createConnectionInjector === 'function') {
    Object.defineProperty(server, 'bindAsync', { configurable: true, writable: true, value: gracefulBindAsync })
  }
  return {
    listeners,
    restore () {
      if (own) Object.defineProperty(server, 'bindAsync', own)
      else delete (server as unknown as Record<string, unknown>).bindAsync
      for (const detach of detaches.splice(0)) detach()
    },
  }
}

/**
 * A listening socket grpc-js bound itself (`bindAsync` before `attach()`, or
 * a grpc-js without connection injection): a reload could not hand it over.
 * grpc-js keeps its sockets in a private map, `http2Servers` (checked on
 * 1.14); when it is not there, nothing can be said (`null`), and the
 * tests here fail.
 */
export function selfBound (server: Server): string | null {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers
  if (!(http2Servers instanceof Map)) return null
  for (const http2Server of http2Servers.keys() as IterableIterator<NetServer>) {
    if (!http2Server.listening) continue
    const address = http2Server.address()
    return typeof address === 'string' ? address : address ? `${address.address}:${address.port}` : 'an address'
  }
  return null
}
