import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { createGraceful, type Logger as GracefulLogger } from '@graceful/core'
import type { LoggerService } from '@nestjs/common'
import { toGracefulLogger } from './logger.js'

describe('toGracefulLogger', () => {
  it('adapts a Nest LoggerService: fields after the message, the stack of err as Nest expects', () => {
    const nest = { log: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() }
    const logger = toGracefulLogger(nest)
    logger?.info({ trigger: 'SIGTERM' }, 'graceful: draining')
    logger?.warn({}, 'plain')
    const err = new Error('db down')
    logger?.error({ hook: 'db', err }, 'graceful: release hook "db" failed')
    logger?.debug({ n: 1 }, 'detail')
    expect(nest.log).toHaveBeenCalledWith('graceful: draining {"trigger":"SIGTERM"}')
    expect(nest.warn).toHaveBeenCalledWith('plain')
    expect(nest.error).toHaveBeenCalledWith('graceful: release hook "db" failed {"hook":"db"}', err.stack)
    expect(nest.debug).toHaveBeenCalledWith('detail {"n":1}')
  })

  it('a logger without debug logs debug lines with log; circular fields do not throw', () => {
    const nest = { log: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const circular: Record<string, unknown> = { a: 1 }
    circular.self = circular
    toGracefulLogger(nest)?.debug({ circular }, 'm')
    expect(nest.log).toHaveBeenCalledWith(expect.stringMatching(/^m .*Circular/))
  })

  it('keeps a pino-shaped logger, silences with false, defaults to Nest\'s Logger', () => {
    const pino = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), log: vi.fn() }
    expect(toGracefulLogger(pino)).toBe(pino)
    const silent = toGracefulLogger(false)
    expect(() => silent?.error({ err: new Error('x') }, 'nothing')).not.toThrow()
    expect(typeof toGracefulLogger(undefined)?.warn).toBe('function')
  })
})

describe('one Nest logger bridge', () => {
  it('prints the same lines through GracefulModule\'s option and through createGraceful({ logger })', () => {
    const err = new Error('db down')
    const calls = (route: (nest: LoggerService) => GracefulLogger) => {
      const nest = { log: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() }
      const logger = route(nest)
      logger.info({ trigger: 'SIGTERM' }, 'graceful: draining')
      logger.error({ err, hook: 'db' }, 'graceful: release hook "db" failed')
      return [nest.log.mock.calls, nest.error.mock.calls]
    }
    expect(calls((nest) => toGracefulLogger(nest)!)).toEqual(calls((nest) => createGraceful({ logger: nest, signals: false }).options.logger))
  })

  it('a Nest Logger with its own context prints one line per message, no stray context line', () => {
    const printed: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { printed.push(String(chunk)); return true })
    try {
      toGracefulLogger(undefined)!.info({ trigger: 'SIGTERM' }, 'graceful: draining')
    } finally {
      write.mockRestore()
    }
    expect(printed).toHaveLength(1)
    expect(stripVTControlCharacters(printed[0]!)).toMatch(/\[Graceful\] graceful: draining \{"trigger":"SIGTERM"\}\n$/)
  })
})
