import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidOption } from '../support/errors.js'
import type { Logger, Stats } from '../types/lifecycle.js'
import type { ControlOptions, ResolvedControl } from '../types/options.js'

const controlKeys = new Set(['token', 'port', 'host'])
export const minTokenLength = 16
/** Bodies above this get 413: a reason is a sentence, not a file. */
export const maxControlBody = 4096

export function resolveControl (value: unknown): ResolvedControl | null {
  if (value === undefined || value === false) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption('control', 'an object { token, port, host? } or false', value)
  for (const key of Object.keys(value)) {
    if (!controlKeys.has(key)) throw invalidOption(`control.${key}`, `one of ${[...controlKeys].join(', ')}`, key)
  }
  const input = value as Partial<ControlOptions>
  // The value is never echoed: an error message must not print a secret.
  if (typeof input.token !== 'string' || input.token.length < minTokenLength) {
    throw invalidOption('control.token', `a string of at least ${minTokenLength} characters (the control surface needs a secret)`, typeof input.token === 'string' ? `${input.token.length} characters` : typeof input.token)
  }
  return { digest: digest(input.token), port: portOf('control.port', input.port), host: hostOf('control.host', input.host) ?? '127.0.0.1' }
}

export function portOf (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) throw invalidOption(name, 'a port number from 0 to 65535', value)
  return value
}

export function hostOf (name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw invalidOption(name, 'a host name or address', value)
  return value
}

function digest (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export interface ControlParts {
  control: ResolvedControl
  pause: (reason?: string) => boolean
  resume: () => boolean
  stats: () => Stats
  log: Logger
}

const routes: Record<string, readonly string[]> = { '/pause': ['POST'], '/resume': ['POST'], '/status': ['GET', 'HEAD'] }

/**
 * The control surface's request listener. In this order, so a caller without
 * the token learns nothing, not even which paths exist: 401 without a valid
 * bearer token (the query string is never read), 404 for another path, 405
 * for another method, 413 for a body above {@link maxControlBody}, 400 for a
 * body that is not `{"reason": "…"}`, 409 once a shutdown started.
 */
export function createControlListener (parts: ControlParts): (req: IncomingMessage, res: ServerResponse) => void {
  const { control, log } = parts

  function authorized (header: string | undefined): boolean {
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
    // Digests of equal length, compared in constant time: neither the token's content nor its length leaks.
    return match !== null && timingSafeEqual(digest(match[1]!), control.digest)
  }

  async function act (path: string, req: IncomingMessage): Promise<[number, Record<string, unknown>]> {
    if (path === '/status') return [200, { ...parts.stats() }]
    const body = await readBody(req)
    if (body === 'too large') return [413, { status: 'body too large', limit: maxControlBody }]
    const reason = path === '/pause' ? reasonOf(body) : undefined
    if (reason === false) return [400, { status: 'body must be empty or {"reason": "…"}' }]
    const changed = path === '/pause' ? parts.pause(reason) : parts.resume() || parts.stats().state === 'accepting'
    if (!changed) return [409, { ...parts.stats() }]
    log.info({ action: path.slice(1), reason, remote: req.socket.remoteAddress }, `graceful: ${path.slice(1)} through the control surface`)
    return [200, { ...parts.stats() }]
  }

  return function gracefulControl (req, res) {
    if (!authorized(req.headers.authorization)) {
      return send(res, 401, { status: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="graceful"' })
    }
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    const allowed = routes[path]
    if (allowed === undefined) return send(res, 404, { status: 'not found' })
    if (!allowed.includes(req.method ?? '')) return send(res, 405, { status: 'method not allowed' }, { allow: allowed.join(', ') })
    act(path, req).then(([status, body]) => send(res, status, body, {}, req.method === 'HEAD'), (error: unknown) => {
      log.error({ err: error }, 'graceful: control request failed')
      send(res, 500, { status: 'error' })
    })
  }
}

/** The body, up to {@link maxControlBody} bytes. */
function readBody (req: IncomingMessage): Promise<string | 'too large'> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxControlBody) return Promise.resolve('too large')
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxControlBody) {
        req.removeAllListeners('data')
        req.pause()
        resolve('too large')
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** `undefined` for an empty body, the reason of `{"reason": "…"}`, or false for anything else. */
function reasonOf (body: string): string | undefined | false {
  if (body.trim() === '') return undefined
  try {
    const parsed = JSON.parse(body) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false
    const { reason } = parsed as { reason?: unknown }
    return reason === undefined || typeof reason === 'string' ? reason : false
  } catch {
    return false
  }
}

/** A JSON answer. Anything but a success closes the connection: an unread body is never read on. */
export function send (res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}, head = false): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...(status >= 400 ? { connection: 'close' } : {}),
    ...headers,
  })
  res.end(head ? undefined : text)
}
