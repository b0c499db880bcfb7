import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { instanceHooks, serverBindings } from './fastify-internals.js'
import { listenOnTwoAddresses } from './test-helpers.js'

// These fail on the Fastify release that changes a private field the plugin
// reads; the plugin then falls back (fastify-internals-fallback.test.ts):
// the gate on every route (a hook runner per request), or only app.server drained.
describe('what the plugin reads from Fastify', () => {
  it("reads an instance's onRequest hooks, inherited ones included", async () => {
    const app = Fastify()
    await app.ready()
    expect(instanceHooks(app, 'onRequest')).toBe(0)
    await app.close()

    // addHook applies once the instance has loaded: the gate reads the hooks then (preReady).
    const hooked = Fastify()
    hooked.addHook('onRequest', async () => {})
    let child: object | undefined
    await hooked.register(async (instance) => { child = instance })
    await hooked.ready()
    expect(instanceHooks(hooked, 'onRequest')).toBe(1)
    expect(instanceHooks(child!, 'onRequest')).toBe(1)
    await hooked.close()
  })

  it('finds the servers Fastify binds for the further addresses of a name (serverBindings)', async () => {
    const app = Fastify()
    expect(serverBindings(app)).toEqual([])
    await listenOnTwoAddresses(app)
    try {
      const bindings = serverBindings(app)
      expect(bindings?.map((server) => (server.address() as AddressInfo).address)).toEqual(['127.0.0.2'])
    } finally {
      await app.close()
    }
  })
})
