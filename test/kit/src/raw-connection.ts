import { connect, type Socket } from 'node:net'
import { within } from './deferred.js'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * One HTTP/1.1 keep-alive connection driven by hand, so a test sees exactly
 * which response came on which connection and when the server sent its FIN.
 */
export interface RawConnection extends AsyncDisposable {
  socket: Socket
  /** Sends a request and resolves with the next complete response on this connection. */
  request: (path: string, options?: { method?: string, headers?: Record<string, string> }) => Promise<RawResponse>
  /** Sends a request without waiting (pipelining); read answers with `response()`. */
  send: (path: string, options?: { method?: string, headers?: Record<string, string> }) => void
  /** The next complete response on this connection. */
  response: (method?: string) => Promise<RawResponse>
  /** Bytes received so far: tells a test that a response has started. */
  readonly bytesReceived: number
  /** Writes raw bytes (a partial request, for slowloris tests). */
  write: (data: string) => void
  /** Resolves when the server ended the connection (FIN), rejects on a reset. */
  ended: Promise<'fin'>
  /** True once the server's FIN arrived. */
  readonly finReceived: boolean
}

export async function openConnection (port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect({ port, host })
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  }), 5000, `connection to ${host}:${port}`)

  let buffer: Buffer = Buffer.alloc(0)
  let fin = false
  let received = 0
  let failure: Error | null = null
  let notify: (() => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    received += chunk.length
    notify?.()
  })
  const ended = new Promise<'fin'>((resolve, reject) => {
    socket.once('end', () => {
      fin = true
      notify?.()
      resolve('fin')
    })
    socket.once('error', (error) => {
      failure = error
      notify?.()
      reject(error)
    })
  })
  ended.catch(() => {})

  /** Waits until `parse` can take something off the buffer. */
  async function next<T> (parse: () => T | null, what: string): Promise<T> {
    return within(new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const parsed = parse()
        if (parsed !== null) {
          notify = null
          resolve(parsed)
        } else if (failure) {
          notify = null
          reject(failure)
        } else if (fin) {
          notify = null
          reject(Object.assign(new Error(`connection closed before ${what}`), { code: 'FIN_BEFORE_RESPONSE' }))
        }
      }
      notify = attempt
      attempt()
    }), 10_000, what)
  }

  function parseHead (): { status: number, headers: Record<string, string>, rest: Buffer } | null {
    const end = buffer.indexOf('\r\n\r\n')
    if (end === -1) return null
    const lines = buffer.subarray(0, end).toString('latin1').split('\r\n')
    const status = Number(lines[0]?.split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    return { status, headers, rest: buffer.subarray(end + 4) }
  }

  function parseResponse (method: string): RawResponse | null {
    const head = parseHead()
    if (!head) return null
    const { status, headers, rest } = head
    if (method === 'HEAD' || status === 204 || status === 304) {
      buffer = rest
      return { status, headers, body: '' }
    }
    if (headers['transfer-encoding'] === 'chunked') {
      let offset = 0
      const parts: Buffer[] = []
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
    if (headers['content-length'] === undefined && headers.connection === 'close') {
      if (!fin) return null
      buffer = Buffer.alloc(0)
      return { status, headers, body: rest.toString() }
    }
    if (rest.length < length) return null
    buffer = rest.subarray(length)
    return { status, headers, body: rest.subarray(0, length).toString() }
  }

  const send = (path: string, method: string, headers: Record<string, string>) => {
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
    socket.write(lines.join('\r\n') + '\r\n\r\n')
  }

  return {
    socket,
    ended,
    get finReceived () { return fin },
    get bytesReceived () { return received },
    request: (path, options = {}) => {
      const method = options.method ?? 'GET'
      send(path, method, options.headers ?? {})
      return next(() => parseResponse(method), `response to ${method} ${path}`)
    },
    send: (path, options = {}) => send(path, options.method ?? 'GET', options.headers ?? {}),
    response: (method = 'GET') => next(() => parseResponse(method), 'the next response'),
    write: (data) => { socket.write(data) },
    [Symbol.asyncDispose]: async () => {
      socket.destroy()
    },
  }
}

/** Tries a new connection: `'connected'`, or the error code (`'ECONNREFUSED'` once the listener is closed). Bounded. */
export function tryConnect (port: number, host = '127.0.0.1'): Promise<string> {
  return within(new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  }), 5000, 'a connection attempt')
}
