import { adapterView } from '@graceful/core/adapter'
import { describe, expect, it, vi } from 'vitest'
import { sendRequest, tryConnect, within } from '@graceful/test-kit'
import { startNestApp } from '../../../test/targets/nestjs-app.js'

// A Fastify without the private field: the main server alone is attached and drained.
vi.mock('./platform-internals.js', () => ({ fastifyServerBindings: () => null }))

describe('on a Nest platform without the private field the package reads', () => {
  it('without Fastify\'s serverBindings: the main server is attached, served and drained', async () => {
    await using h = await startNestApp('fastify')
    expect(adapterView(h.graceful).attached).toBe(1)
    expect((await sendRequest(h.port, '/readyz')).status).toBe(200)
    expect((await within(h.graceful.shutdown(), 5000, 'the summary')).outcome).toBe('clean')
    expect(await tryConnect(h.port)).toBe('ECONNREFUSED')
  })
})
