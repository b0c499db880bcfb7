// Test helpers for this package's tests; excluded from the build and the tarball.
import { connect, type Socket } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RawServerBase } from 'fastify'
import type { Graceful, GracefulEvents } from '@graceful/core'
import graceful, { type FastifyGracefulOptions } from './index.js'

export interface Deferred<T = void> {
  promise: Promise<T>
  resolve: (value: T) => void
}

/** Holds a request open until the test says so. */
export function deferred<T = void> (): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => { resolve = r })
  return { promise, resolve }
}

/** Every wait in a test is bounded. */
export function within<T> (promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The next `event` of a graceful instance, bounded. */
export function nextEvent<E extends keyof GracefulEvents> (g: Graceful, event: E): Promise<GracefulEvents[E]> {
  return within(new Promise((resolve) => { g.once(event, (...args) => resolve(args)) }), `graceful event "${event}"`)
}

export interface TestApp extends AsyncDisposable {
  app: FastifyInstance<RawServerBase>
  port: number
  /** Errors Fastify's error handler saw. */
  errors: unknown[]
  /** How often the app's own onClose hook ran. */
  onCloseRuns: () => number
  /** Resolves once the server has received `count` requests in all (gated ones included). */
  received: (count: number) => Promise<void>
}

/**
 * A Fastify app with the plugin registered first (in-process: no signals, no
 * exit), `routes` added, listening on 127.0.0.1:0.
 */
export async function startApp (
  options: FastifyGracefulOptions = {},
  routes: (app: FastifyInstance<RawServerBase>) => void = () => {},
  server: FastifyServerOptions & { http2?: boolean } = {},
): Promise<TestApp> {
  const app = Fastify({ logger: false, ...server } as FastifyServerOptions) as unknown as FastifyInstance<RawServerBase>
  const errors: unknown[] = []
  let onCloseRuns = 0
  await app.register(graceful, { signals: false, exit: false, ...options })
  app.setErrorHandler(async (error, _request, reply) => {
    errors.push(error)
    return reply.code(500).type('text/plain').send('error')
  })
  app.addHook('onClose', async () => { onCloseRuns++ })
  routes(app)
  let requests = 0
  const waiting = new Set<() => void>()
  app.server.on('request', () => {
    requests++
    for (const wake of waiting) wake()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    app,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    errors,
    onCloseRuns: () => onCloseRuns,
    received: (count) => within(new Promise<void>((resolve) => {
      const wake = () => {
        if (requests < count) return
        waiting.delete(wake)
        resolve()
      }
      waiting.add(wake)
      wake()
    }), `${count} request(s) received`),
    [Symbol.asyncDispose]: async () => {
      await app.graceful.force('dispose')
      await within(app.close(), 'app.close() in teardown')
    },
  }
}

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** One HTTP/1.1 keep-alive connection driven by hand: which response came on which connection, and when the FIN came. */
export interface RawConnection extends AsyncDisposable {
  socket: Socket
  /** Sends a request (pipelining allowed); `response()` reads the answers in order. */
  send: (path: string, method?: string) => void
  /** The next complete response on this connection. */
  response: (method?: string) => Promise<RawResponse>
  request: (path: string, method?: string) => Promise<RawResponse>
  /** Bytes received so far. */
  readonly received: number
  /** Resolves once more than `bytes` bytes have arrived (a response has started). */
  receivedMore: (bytes?: number) => Promise<void>
  /** Resolves on the server's FIN, rejects on a reset. */
  ended: Promise<void>
}

export async function openConnection (port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect({ port, host })
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  }), 'connect')

  let buffer = Buffer.alloc(0)
  let received = 0
  let fin = false
  let failure: Error | null = null
  let wake: (() => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    received += chunk.length
    wake?.()
  })
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', () => {
      fin = true
      wake?.()
      resolve()
    })
    socket.once('error', (error) => {
      failure = error
      wake?.()
      reject(error)
    })
  })
  ended.catch(() => {})

  function parse (method: string): RawResponse | null {
    const end = buffer.indexOf('\r\n\r\n')
    if (end === -1) return null
    const lines = buffer.subarray(0, end).toString('latin1').split('\r\n')
    const status = Number(lines[0]?.split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const rest = buffer.subarray(end + 4)
    if (method === 'HEAD') {
      buffer = rest
      return { status, headers, body: '' }
    }
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = []
      let offset = 0
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', offset)
        if (lineEnd === -1) return null
        const size = parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16)
        const start = lineEnd + 2
        if (rest.length < start + size + 2) return null
        if (size === 0) {
          buffer = rest.subarray(start + 2)
          return { status, headers, body: Buffer.concat(parts).toString() }
        }
        parts.push(rest.subarray(start, start + size))
        offset = start + size + 2
      }
    }
    const length = Number(headers['content-length'] ?? 0)
    if (rest.length < length) return null
    buffer = rest.subarray(length)
    return { status, headers, body: rest.subarray(0, length).toString() }
  }

  function response (method = 'GET'): Promise<RawResponse> {
    return within(new Promise<RawResponse>((resolve, reject) => {
      const attempt = () => {
        const parsed = parse(method)
        if (parsed) {
          wake = null
          resolve(parsed)
        } else if (failure || fin) {
          wake = null
          reject(failure ?? new Error('connection ended before a complete response'))
        }
      }
      wake = attempt
      attempt()
    }), 'a response')
  }

  const send = (path: string, method = 'GET') => {
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
  }

  return {
    socket,
    ended,
    get received () { return received },
    receivedMore: (bytes = 0) => within(new Promise<void>((resolve) => {
      const check = () => received > bytes ? resolve() : socket.once('data', check)
      check()
    }), 'bytes on the connection'),
    send,
    response,
    request: (path, method = 'GET') => {
      send(path, method)
      return response(method)
    },
    [Symbol.asyncDispose]: async () => { socket.destroy() },
  }
}

/** Resolves with the error code when a new connection to `port` fails (e.g. ECONNREFUSED), or `'connected'`. */
export function tryConnect (port: number, host = '127.0.0.1'): Promise<string> {
  return within(new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  }), 'a connection attempt')
}
