import type { AddressInfo } from 'node:net'
import { adapterView } from '@graceful/core/adapter'
import Fastify, { type RouteOptions } from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { deferred, disposeAfterTest, inProcess, openConnection, patience, within } from '@graceful/test-kit'
import graceful from './index.js'
import { listenOnTwoAddresses } from './test-helpers.js'

// A Fastify whose private fields all changed: every reader in
// fastify-internals.ts answers what it answers when its field is gone.
vi.mock('./fastify-internals.js', () => ({
  instanceHooks: () => null,
  serverBindings: () => null,
}))

describe('on a Fastify without the private fields the plugin reads', () => {
  it('without the hooks symbol: every route gets the gate, and a request held in a hook across the trigger still gets the 503', async () => {
    const hold = deferred()
    const app = Fastify()
    await app.register(graceful, inProcess)
    const built: RouteOptions[] = []
    app.addHook('onRoute', (route) => { built.push(route) })
    app.get('/plain', async () => 'plain')
    await app.register(async (held) => {
      held.addHook('onRequest', async () => { await hold.promise })
      held.get('/held', async () => 'held')
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    disposeAfterTest({ [Symbol.asyncDispose]: () => app.close() })
    const gated = (path: string) => [built.find((route) => route.url === path)?.onRequest].flat().some((hook) => hook?.name === 'gracefulGate')
    expect(gated('/plain')).toBe(true)
    expect(gated('/held')).toBe(true)

    await using c = await openConnection((app.server.address() as AddressInfo).port)
    expect((await c.request('/plain')).status).toBe(200)
    c.send('/held')
    await vi.waitFor(() => expect(app.graceful.stats().inFlight, 'the request').toBe(1), patience)
    const shutdown = app.graceful.shutdown()
    hold.resolve()
    expect((await c.response()).status).toBe(503)
    expect((await within(shutdown, 5000, 'shutdown')).outcome).toBe('clean')
  })

  it('without serverBindings: app.server alone is attached, and app.close() still closes every address', async () => {
    const app = Fastify()
    await app.register(graceful, inProcess)
    await listenOnTwoAddresses(app)
    expect(app.addresses()).toHaveLength(2)
    expect(adapterView(app.graceful).attached).toBe(1)
    await within(app.close(), 5000, 'app.close()')
    expect(app.graceful.state).toBe('closed')
  })
})
