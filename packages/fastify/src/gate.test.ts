import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { inProcess } from '@graceful/test-kit'
import { instanceHooks } from './gate.js'
import graceful from './index.js'

// Fails the day Fastify changes where it keeps an instance's hooks: the gate
// would then be added to every route (correct, but a hook runner per request).
describe('the Fastify gate', () => {
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

  it('the plugin adds no onRequest hook: the drain\'s 503 is answered at the server (what the README says)', async () => {
    const app = Fastify()
    await app.register(graceful, inProcess)
    app.get('/', async () => 'hello')
    await app.ready()
    expect(instanceHooks(app, 'onRequest')).toBe(0)
    await app.close()
  })
})
