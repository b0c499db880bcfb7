import { describe, expect, it, vi } from 'vitest'
import { adapterView, createAdapterGraceful } from './adapter.js'
import { createGraceful, type Graceful } from './index.js'
import * as core from './index.js'

const quiet = { signals: false, exit: false, logger: false } as const

describe('@graceful/core/adapter', () => {
  it('the user handle carries nothing adapter-only, enumerable or not', () => {
    const g = createGraceful(quiet)
    for (const member of ['gate', 'reject', 'rejection', 'rejectionFor', 'matchHealth', 'liveness', 'attached', 'attachExternal', 'attachListener', 'refuseReloadWhen']) {
      expect(member in g, member).toBe(false)
    }
    expect(Object.getOwnPropertySymbols(g).filter((symbol) => Object.getOwnPropertyDescriptor(g, symbol)?.enumerable)).toEqual([Symbol.asyncDispose])
    expect(Object.keys(core)).not.toContain('resolveOptions')
    expect(Object.keys(core)).not.toContain('forcedExitCode')
    expect(Object.keys(core)).not.toContain('createMiddlewareAdapter')
    expect(Object.keys(core)).not.toContain('invalidOption')
  })

  it('adapterView() gives the same view of a user\'s instance that createAdapterGraceful() returns', async () => {
    const view = createAdapterGraceful(quiet)
    expect(adapterView(view.graceful)).toBe(view)
    expect(view.attached).toBe(0)
    expect(view.matchHealth('/readyz?probe=1')).toBe('readiness')
    expect(view.liveness()).toMatchObject({ statusCode: 200 })
    expect(await view.readiness()).toMatchObject({ statusCode: 503, body: '{"status":"starting"}' })
    await view.graceful.shutdown()
  })

  it('matches health paths with or without a query string, without cutting a substring out of every URL', () => {
    const view = createAdapterGraceful(quiet)
    const cuts = [vi.spyOn(String.prototype, 'slice'), vi.spyOn(String.prototype, 'substring'), vi.spyOn(String.prototype, 'split')]
    const matched = ['/readyz', '/readyz?probe=1', '/livez?', '/readyzz', '/api/items?page=2', '/ready', '/'].map((url) => view.matchHealth(url))
    const calls = cuts.map((spy) => spy.mock.calls.length)
    for (const spy of cuts) spy.mockRestore()
    expect(matched).toEqual(['readiness', 'readiness', 'liveness', null, null, null, null])
    expect(calls).toEqual([0, 0, 0])
  })

  it.each([
    ['an object that only looks like a handle', { state: 'accepting', attach: () => () => {} }],
    ['null', null],
    ['a number', 42],
  ])('adapterView() refuses %s, naming the option', (_name, fake) => {
    expect(() => adapterView(fake as unknown as Graceful)).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'graceful' }))
  })

  it('createAdapterGraceful() validates like createGraceful(), with the adapter\'s own keys', async () => {
    expect(() => createAdapterGraceful({ ...quiet, prefix: '/x' } as never)).toThrow(expect.objectContaining({ option: 'prefix' }))
    const view = createAdapterGraceful({ ...quiet, prefix: '/x' } as never, { extraKeys: ['prefix'] })
    expect(view.graceful.options).not.toHaveProperty('prefix')
    await view.graceful.shutdown()
  })
})
