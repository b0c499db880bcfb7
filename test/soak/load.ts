import http from 'node:http'
import http2 from 'node:http2'
import { setTimeout as delay } from 'node:timers/promises'

// The soak's load: HTTP/1 keep-alive and new-connection loops, an h2c loop on
// one long-lived session (replaced when the server sends GOAWAY) and one on a
// new session per request. Every request ends in a class; only `failed` is a
// failure. `refused` counts what was not served while the service is stopped
// on purpose (`stopped()`: from the SIGTERM until it listens again), the only
// moment a request may go unserved; `whileStopped` says how.
//
// Extension point: a gRPC loop (the other reload helper's part) is one more
// entry in `loops` below, with the same `record()`.

export interface Ports { h1: number, h2c: number }

export interface LoadTotals {
  requests: number
  ok: number
  /** Requests not served while the test had stopped the service on purpose (refused connections, the drain's 503s). */
  refused: number
  whileStopped: Record<string, number>
  /** h2c requests refused by a GOAWAY (never processed, retried on a new session, as clients do). */
  retried: number
  failed: number
  failures: Record<string, number>
}

export interface SoakLoad {
  totals: LoadTotals
  /** Marks a deliberate stop (true) and the restart (false). */
  stopped: (value: boolean) => void
  retarget: (ports: Ports) => void
  stop: () => Promise<void>
}

const requestTimeoutMs = 8000

export function startSoakLoad (initial: Ports): SoakLoad {
  let ports = initial
  let stopping = false
  let down = false
  const totals: LoadTotals = { requests: 0, ok: 0, refused: 0, whileStopped: {}, retried: 0, failed: 0, failures: {} }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })

  function record (outcome: 'ok' | 'retried' | string): void {
    totals.requests++
    if (outcome === 'ok') totals.ok++
    else if (outcome === 'retried') totals.retried++
    else if (down) {
      // While the service is stopped on purpose: a refused connection, or the old process's own drain (503, a reset at its exit).
      totals.refused++
      totals.whileStopped[outcome] = (totals.whileStopped[outcome] ?? 0) + 1
    }
    else {
      totals.failed++
      totals.failures[outcome] = (totals.failures[outcome] ?? 0) + 1
    }
  }

  function h1 (keepAlive: boolean, path: string): Promise<string> {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: ports.h1, path, agent: keepAlive ? agent : false, timeout: requestTimeoutMs }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `status ${res.statusCode}`))
        res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
  }

  let session: http2.ClientHttp2Session | null = null
  const sessionErrors = new WeakMap<http2.ClientHttp2Session, string>()
  function h2 (fresh: boolean): Promise<string> {
    return new Promise((resolve) => {
      let own: http2.ClientHttp2Session
      if (fresh) {
        own = http2.connect(`http://127.0.0.1:${ports.h2c}`)
      } else {
        if (session === null || session.closed || session.destroyed) {
          session = http2.connect(`http://127.0.0.1:${ports.h2c}`)
          const current = session
          current.on('error', (error: NodeJS.ErrnoException) => { sessionErrors.set(current, error.code ?? error.message) })
          // After a GOAWAY this session takes no new stream: the next request opens another.
          current.on('goaway', () => { if (session === current) session = null })
        }
        own = session
      }
      if (fresh) own.on('error', (error: NodeJS.ErrnoException) => { sessionErrors.set(own, error.code ?? error.message) })
      let settled = false
      const settle = (outcome: string) => {
        if (settled) return
        settled = true
        if (fresh) own.close()
        else if (outcome !== 'ok' && session === own) { session = null; own.destroy() }
        resolve(outcome)
      }
      let stream: http2.ClientHttp2Stream
      try {
        stream = own.request({ ':path': '/' })
      } catch (error) {
        settle((error as NodeJS.ErrnoException).code === 'ERR_HTTP2_GOAWAY_SESSION' ? 'retried' : String(error))
        return
      }
      let status = 0
      stream.setTimeout(requestTimeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL))
      stream.on('response', (headers) => { status = Number(headers[':status']) })
      stream.on('data', () => {})
      stream.on('end', () => settle(status === 200 ? 'ok' : `h2 status ${status}`))
      stream.on('error', (error: NodeJS.ErrnoException) => {
        // REFUSED_STREAM / a GOAWAY below this stream's id: never processed, safe to retry (RFC 9113 §8.7).
        const refused = error.code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(error.message)
        // A stream cancelled because its session failed: the session's error (ECONNREFUSED…) is the outcome.
        const cause = (error.cause as NodeJS.ErrnoException | undefined)?.code
        settle(refused || error.code === 'ERR_HTTP2_GOAWAY_SESSION' ? 'retried' : (cause ?? sessionErrors.get(own) ?? error.code ?? error.message))
      })
      stream.on('close', () => { if (status === 0 && stream.rstCode !== 0) settle(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'retried' : `h2 rst ${stream.rstCode}`) })
    })
  }

  async function loop (request: () => Promise<string>, pauseMs: number): Promise<void> {
    while (!stopping) {
      record(await request())
      await delay(pauseMs)
    }
  }
  const loops = [
    loop(() => h1(true, '/'), 5),
    loop(() => h1(true, '/slow?ms=50'), 0),
    loop(() => h1(false, '/'), 10),
    loop(() => h2(false), 5),
    loop(() => h2(true), 15),
  ]

  return {
    totals,
    stopped: (value) => { down = value },
    retarget: (next) => { ports = next; session?.destroy(); session = null },
    stop: async () => {
      stopping = true
      await Promise.all(loops)
      agent.destroy()
      session?.destroy()
    },
  }
}
