import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { inProcess } from '@graceful/test-kit'
import { instanceHooks } from './fastify-internals.js'
import graceful from './index.js'

describe('the Fastify gate', () => {
  it('the plugin adds no onRequest hook: the drain\'s 503 is answered at the server (what the README says)', async () => {
    const app = Fastify()
    await app.register(graceful, inProcess)
    app.get('/', async () => 'hello')
    await app.ready()
    expect(instanceHooks(app, 'onRequest')).toBe(0)
    await app.close()
  })
})
