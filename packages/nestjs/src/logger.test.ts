import { describe, expect, it, vi } from 'vitest'
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
