import { PassThrough } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import winston from 'winston'
import { createGraceful } from '../graceful.js'
import { resolveLogger } from './logger.js'

// A NestJS Logger as Nest declares it: `(message, context?)`, `error(message, stack?, context?)`, no `info`.
class NestStyleLogger {
  calls: unknown[][] = []
  log (message: unknown, context?: string) { this.calls.push(['log', message, context]) }
  error (message: unknown, stack?: string, context?: string) { this.calls.push(['error', message, stack, context]) }
  warn (message: unknown, context?: string) { this.calls.push(['warn', message, context]) }
  debug (message: unknown, context?: string) { this.calls.push(['debug', message, context]) }
  verbose (message: unknown, context?: string) { this.calls.push(['verbose', message, context]) }
}

describe('logger option', () => {
  it('normalises a NestJS logger: one line each, fields after the message, no context of ours, the stack where Nest wants it', () => {
    const nest = new NestStyleLogger()
    const log = resolveLogger(nest)
    log.info({ trigger: 'SIGTERM' }, 'graceful: draining')
    const error = new Error('db down')
    log.error({ err: error, hook: 'db' }, 'graceful: release hook "db" failed')
    log.debug({}, 'graceful: details')
    // A context of ours would print as a stray line after a Nest Logger's own context ('Graceful').
    expect(nest.calls[0]).toEqual(['log', 'graceful: draining {"trigger":"SIGTERM"}', undefined])
    expect(nest.calls[1]).toEqual(['error', 'graceful: release hook "db" failed {"hook":"db"}', error.stack, undefined])
    expect(nest.calls[2]).toEqual(['debug', 'graceful: details', undefined])
    expect(() => createGraceful({ logger: nest, signals: false })).not.toThrow()
  })

  it('calls winston the way winston is called: its JSON lines keep the message, the fields and the error', () => {
    const lines: Record<string, unknown>[] = []
    const stream = new PassThrough()
    stream.on('data', (chunk: Buffer) => { for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>) })
    const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] })
    const log = resolveLogger(logger)
    log.error({ err: new Error('db down'), hook: 'postgres' }, 'graceful: release hook "postgres" failed')
    log.info({ trigger: 'SIGTERM' }, 'graceful: draining')
    expect(lines[0]).toMatchObject({ level: 'error', message: 'graceful: release hook "postgres" failed', hook: 'postgres', err: { type: 'Error', message: 'db down' } })
    expect(lines[1]).toMatchObject({ level: 'info', message: 'graceful: draining', trigger: 'SIGTERM' })
    expect(() => createGraceful({ logger, signals: false })).not.toThrow()
    logger.close()
  })

  it('accepts console and pino-shaped loggers as they are, bound to themselves', () => {
    expect(() => createGraceful({ logger: console, signals: false })).not.toThrow()
    const pinoLike = { level: 'info', seen: [] as unknown[], info (fields: object, msg: string) { this.seen.push([fields, msg]) }, warn () {}, error () {}, debug () {} }
    resolveLogger(pinoLike).info({ a: 1 }, 'hello')
    expect(pinoLike.seen).toEqual([[{ a: 1 }, 'hello']])
  })

  it('defaults to stderr for warn and error only, one JSON line with pino levels', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      const log = resolveLogger(undefined)
      log.info({ a: 1 }, 'quiet')
      log.warn({ n: 1n, self: undefined }, 'careful')
      log.error({ err: new Error('bad') }, 'broken')
      expect(write).toHaveBeenCalledTimes(2)
      const [warn, error] = write.mock.calls.map(([line]) => String(line))
      expect(warn?.endsWith('\n')).toBe(true)
      expect(warn?.trimEnd()).not.toContain('\n')
      expect(JSON.parse(warn ?? '')).toMatchObject({ level: 40, msg: 'careful', n: '1', name: 'graceful' })
      expect(JSON.parse(error ?? '')).toMatchObject({ level: 50, msg: 'broken', err: { type: 'Error', message: 'bad' } })
    } finally {
      write.mockRestore()
    }
  })

  it('false is silent; anything else is refused naming the option', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      resolveLogger(false).error({}, 'nothing')
      expect(write).not.toHaveBeenCalled()
    } finally {
      write.mockRestore()
    }
    expect(() => resolveLogger({ log: () => {} })).toThrow(expect.objectContaining({ option: 'logger', message: expect.stringMatching(/NestJS Logger/) }))
    expect(() => resolveLogger('pino')).toThrow(/option "logger"/)
  })

  it('a logger method that throws is reported once as a process warning and never escapes', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }) => { if (warning.code === 'GRACEFUL_OBSERVER_FAILED') warnings.push(warning.message) }
    process.on('warning', onWarning)
    try {
      const log = resolveLogger({ info: () => { throw new Error('x') }, warn () {}, error () {} })
      expect(() => { log.info({}, 'a'); log.info({}, 'b') }).not.toThrow()
      await vi.waitFor(() => expect(warnings).toHaveLength(1))
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/logger\.info\(\) threw/)
    } finally {
      process.off('warning', onWarning)
    }
  })
})
