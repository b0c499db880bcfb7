import http from 'node:http'
import http2 from 'node:http2'
import { setTimeout as delay } from 'node:timers/promises'

// The soak's load: HTTP/1 keep-alive and new-connection loops, an h2c loop on
// one long-lived session (replaced when the server sends GOAWAY) and one on a
// new session per request. Every request ends in a class; only `failed` is a
// failure. `refused` is a refused connection while the service is stopped on
// purpose (`stopped()`), the only moment it may be.
//
// Extension point: a gRPC loop (the other reload helper's part) is one more
// entry in `loops` below, with the same `record()`.

export interface Ports { h1: number, h2c: number }

export interface LoadTotals {
  requests: number
  ok: number
  /** Connections refused while the test had stopped the service on purpose. */
  refused: number
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
  const totals: LoadTotals = { requests: 0, ok: 0, refused: 0, retried: 0, failed: 0, failures: {} }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })

  function record (outcome: 'ok' | 'retried' | string): void {
    totals.requests++
    if (outcome === 'ok') totals.ok++
    else if (outcome === 'retried') totals.retried++
    else if (outcome === 'ECONNREFUSED' && down) totals.refused++
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
  function h2 (fresh: boolean): Promise<string> {
    return new Promise((resolve) => {
      let own: http2.ClientHttp2Session
      if (fresh) {
        own = http2.connect(`http://127.0.0.1:${ports.h2c}`)
      } else {
        if (session === null || session.closed || session.destroyed) {
          session = http2.connect(`http://127.0.0.1:${ports.h2c}`)
          const current = session
          // After a GOAWAY this session takes no new stream: the next request opens another.
          current.on('goaway', () => { if (session === current) session = null })
        }
        own = session
      }
      own.on('error', () => {})
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
        settle(refused || error.code === 'ERR_HTTP2_GOAWAY_SESSION' ? 'retried' : (error.code ?? error.message))
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
