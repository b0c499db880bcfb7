import http, { type IncomingHttpHeaders } from 'node:http'
import type { ClientHttp2Stream } from 'node:http2'
import { within } from './deferred.js'

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface SendOptions {
  /** A keep-alive agent to reuse connections; by default each request gets its own connection. */
  agent?: http.Agent
  method?: string
  headers?: Record<string, string>
}

/**
 * One request through Node's HTTP client to 127.0.0.1:`to` (or the Unix socket `{ socketPath }`),
 * with its whole body; bounded.
 */
export function sendRequest (to: number | { socketPath: string }, path: string, options: SendOptions = {}): Promise<Reply> {
  const method = options.method ?? 'GET'
  const where = typeof to === 'number' ? { host: '127.0.0.1', port: to } : { socketPath: to.socketPath }
  return within(new Promise<Reply>((resolve, reject) => {
    const req = http.request({ ...where, path, method, headers: options.headers, agent: options.agent ?? false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  }), 5000, `${method} ${path}`)
}

/**
 * The status and whole body of an HTTP/2 client stream the caller opened (`session.request()`);
 * rejects on a stream error. Unbounded: wrap it in `within`.
 */
export function http2Reply (stream: ClientHttp2Stream): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (headers) => { status = Number(headers[':status']) })
    stream.on('data', (chunk: string) => { body += chunk })
    stream.on('end', () => resolve({ status, body }))
    stream.on('error', reject)
  })
}
