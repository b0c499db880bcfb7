// Fastify conventions: the health routes take route options like
// @fastify/under-pressure's status route, and document their 200 and 503.
import { Writable } from 'node:stream'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import graceful from './index.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

/** An app logging JSON lines at `info` into `lines`. */
function loggingApp (): { app: FastifyInstance, lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  apps.push(app)
  return { app, lines }
}

const requestLogs = (lines: Record<string, unknown>[], url: string) =>
  lines.filter((line) => (line.req as { url?: string } | undefined)?.url === url || line.msg === 'request completed')

describe('health route options', () => {
  it('logs probes at the app level by default, and not at all below healthRoutes.logLevel', async () => {
    const plain = loggingApp()
    await plain.app.register(graceful, { signals: false, exit: false })
    await plain.app.inject('/livez')
    expect(requestLogs(plain.lines, '/livez').length).toBeGreaterThan(0)

    const quiet = loggingApp()
    await quiet.app.register(graceful, { signals: false, exit: false, healthRoutes: { logLevel: 'warn' } })
    quiet.app.get('/other', async () => 'other')
    expect((await quiet.app.inject('/livez')).statusCode).toBe(200)
    expect((await quiet.app.inject('/readyz')).statusCode).toBe(503)
    expect(quiet.lines.filter((line) => line.msg === 'incoming request' || line.msg === 'request completed')).toEqual([])
    // Other routes log as before; the plugin's own logs too.
    await quiet.app.inject('/other')
    expect(requestLogs(quiet.lines, '/other').length).toBeGreaterThan(0)
    await quiet.app.graceful.shutdown()
    expect(quiet.lines.some((line) => line.msg === 'graceful: closed')).toBe(true)
  })

  it('applies the register logLevel to the health routes and the plugin\'s own logs, as for any encapsulated plugin', async () => {
    const { app, lines } = loggingApp()
    await app.register(graceful, { signals: false, exit: false, logLevel: 'warn' })
    app.get('/other', async () => 'other')
    await app.inject('/livez')
    expect(lines).toEqual([])
    await app.inject('/other')
    expect(requestLogs(lines, '/other').length).toBeGreaterThan(0)
    const before = lines.length
    await app.graceful.shutdown()
    expect(lines.slice(before).filter((line) => typeof line.msg === 'string' && line.msg.startsWith('graceful:'))).toEqual([])
  })

  it('documents the 200 and 503 shapes for @fastify/swagger, and sends the same bodies as without a schema', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(swagger, { openapi: { info: { title: 'test', version: '1.0.0' } } })
    await app.register(graceful, { signals: false, exit: false, healthRoutes: { schema: { tags: ['ops'] } }, health: { detail: true, checks: { db: () => {} } } })
    await app.ready()
    const spec = app.swagger() as unknown as { paths: Record<string, Record<string, { tags?: string[], responses: Record<string, { description: string, content?: Record<string, { schema: { properties: Record<string, { enum?: string[] }> } }> }> }>> }
    const readiness = spec.paths['/readyz']?.get
    expect(Object.keys(readiness?.responses ?? {}).sort()).toEqual(['200', '503'])
    expect(readiness?.tags).toEqual(['ops'])
    expect(readiness?.responses['503']?.content?.['application/json']?.schema.properties.status?.enum).toEqual(['starting', 'draining', 'unavailable'])
    expect(Object.keys(spec.paths['/livez']?.get?.responses ?? {})).toEqual(['200'])
    // The bodies are pre-serialized JSON: the schema documents them, it does not rewrite them.
    const ready = await app.inject('/readyz')
    expect(ready.statusCode).toBe(503)
    expect(ready.body).toBe('{"status":"starting"}')
    await app.listen({ port: 0, host: '127.0.0.1' })
    expect((await app.inject('/readyz')).body).toBe('{"status":"ready","checks":{"db":"ok"}}')
  })

  it('hides the health routes from the spec with healthRoutes.hide', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(swagger, { openapi: { info: { title: 'test', version: '1.0.0' } } })
    await app.register(graceful, { signals: false, exit: false, healthRoutes: { hide: true } })
    app.get('/visible', async () => 'visible')
    await app.ready()
    const spec = app.swagger() as unknown as { paths: Record<string, unknown> }
    expect(Object.keys(spec.paths)).toEqual(['/visible'])
    expect((await app.inject('/livez')).statusCode).toBe(200)
  })
})
