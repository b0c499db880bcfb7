import http from 'node:http'
import type { Socket } from 'node:net'

/**
 * Milliseconds on a clock every process of the bench shares (wall-clock
 * origin, monotonic ticks), so a time taken in a child can be compared with
 * one taken here.
 */
export const now = (): number => performance.timeOrigin + performance.now()

/** One request, as the client saw it. */
export interface Attempt {
  /** Sent as `x-bench-id`; the probe logs the ids the server parsed. */
  id: number
  /** What was asked: `fast` (`/`) or `slow` (`/slow?ms=…`). */
  kind: string
  start: number
  end: number
  /** Status of a complete response, or null. */
  status: number | null
  /** The response carried `Connection: close`. */
  close: boolean
  /** Error code (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`, …), or null. */
  error: string | null
  /** Sent on a keep-alive connection that had served a request before. */
  reused: boolean
  /** Response headers had arrived before the error (the server was answering). */
  responded: boolean
}

/**
 * The outcome classes, in the order tables print them.
 *
 * - `completed`: a complete response other than 503.
 * - `rejected`: 503 with `Connection: close`, the clean rejection (retry on a new connection).
 * - `rejectedKeepAlive`: 503 that leaves the connection open.
 * - `refused`: ECONNREFUSED, a new connection nobody accepted (retry-safe).
 * - `unread`: the connection failed and the server never parsed the request:
 *   the keep-alive race (the server closed an idle connection as the request
 *   was on its way) or a connection reset in the accept queue. Retry-safe
 *   (RFC 9110 §9.2.2; Node's docs suggest retrying on `req.reusedSocket`).
 * - `lost`: reset or error of a request the server had parsed, or of one it
 *   had started answering: the failure graceful shutdown exists to prevent.
 *   Without server-side evidence every reset counts here.
 */
export const outcomes = ['completed', 'rejected', 'rejectedKeepAlive', 'refused', 'unread', 'lost'] as const
export type Outcome = typeof outcomes[number]

/** Column titles for each outcome. */
export const outcomeLabels: Record<Outcome, string> = {
  completed: 'completed',
  rejected: '503 + close',
  rejectedKeepAlive: '503 keep-alive',
  refused: 'refused',
  unread: 'not read',
  lost: 'LOST',
}

/**
 * The one classifier. `parsed` says whether the server parsed a request id
 * (from the probe's log); without it a reset counts as `lost`.
 */
export function classify (attempt: Attempt, parsed?: (id: number) => boolean): Outcome {
  if (attempt.status !== null) {
    if (attempt.status !== 503) return 'completed'
    return attempt.close ? 'rejected' : 'rejectedKeepAlive'
  }
  if (attempt.error === 'ECONNREFUSED') return 'refused'
  if (attempt.responded) return 'lost'
  if (parsed && !parsed(attempt.id)) return 'unread'
  return 'lost'
}

export type Counts = Record<Outcome, number>

export function emptyCounts (): Counts {
  return { completed: 0, rejected: 0, rejectedKeepAlive: 0, refused: 0, unread: 0, lost: 0 }
}

export function countOutcomes (attempts: Iterable<Attempt>, parsed?: (id: number) => boolean): Counts {
  const counts = emptyCounts()
  for (const attempt of attempts) counts[classify(attempt, parsed)]++
  return counts
}

/** A keep-alive agent for loopback load: one socket per concurrent request, none dropped while idle. */
export function createAgent (maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' })
}

export interface SendOptions {
  agent: http.Agent
  /** A port on 127.0.0.1… */
  port?: number
  /** …or a Unix socket (a load balancer's frontend). */
  socketPath?: string
  path: string
  /**
   * `POST` sends `body` (a proxy never replays a POST its server may have started).
   * @default 'GET'
   */
  method?: 'GET' | 'POST'
  body?: string
  /** Extra request headers (`x-bench-id` is always sent). */
  headers?: Record<string, string>
  id: number
  kind: string
  /** Give up (and count `ETIMEDOUT`) after this long. */
  timeout: number
  /** Called once the request has a socket (to watch the connection). */
  onSocket?: (socket: Socket) => void
  /** Called once the whole request was handed to the kernel. */
  onSent?: () => void
}

/** Sends one request (a GET unless `method` says otherwise) to 127.0.0.1 (or `socketPath`) and resolves (never rejects) with what happened. */
export function send (options: SendOptions): Promise<Attempt> {
  const attempt: Attempt = {
    id: options.id,
    kind: options.kind,
    start: now(),
    end: 0,
    status: null,
    close: false,
    error: null,
    reused: false,
    responded: false,
  }
  return new Promise((resolve) => {
    let settled = false
    const settle = (error: string | null, status: number | null = null) => {
      if (settled) return
      settled = true
      attempt.end = now()
      attempt.error = error
      attempt.status = status
      attempt.reused = req.reusedSocket
      resolve(attempt)
    }
    const req = http.request({
      ...(options.socketPath === undefined ? { host: '127.0.0.1', port: options.port } : { socketPath: options.socketPath }),
      path: options.path,
      method: options.method ?? 'GET',
      agent: options.agent,
      headers: {
        ...options.headers,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) }),
        'x-bench-id': String(options.id),
      },
    })
    req.setTimeout(options.timeout, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })))
    req.on('socket', (socket) => options.onSocket?.(socket))
    if (options.onSent) req.once('finish', options.onSent)
    req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message))
    req.on('response', (res) => {
      attempt.responded = true
      attempt.close = String(res.headers.connection ?? '').toLowerCase() === 'close'
      res.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message))
      res.on('end', () => settle(null, res.statusCode ?? 0))
      res.on('close', () => {
        if (!res.complete) settle('ECONNRESET')
      })
      res.resume()
    })
    req.end(options.body)
  })
}
