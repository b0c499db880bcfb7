import http from 'node:http'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { createAdapterGraceful } from './adapter.js'

// attachListener(): a listening socket an integration serves itself (gRPC).
// Handed over by a reload: test/e2e/grpc-reload.test.ts.

const quiet = { signals: false, exit: false, logger: false } as const

function listen (server: net.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
}

describe('an integration\'s listener', () => {
  it('counts for readiness: ready once it and every attached server listen; alone, it is enough', async () => {
    const view = createAdapterGraceful(quiet)
    const web = http.createServer()
    const listener = net.createServer()
    view.graceful.attach(web)
    const detach = view.attachListener(listener)
    await listen(web)
    expect(view.graceful.ready).toBe(false)
    await listen(listener)
    expect(view.graceful.ready).toBe(true)
    // Not tracked: the core never counts its connections or closes it.
    expect(view.attached).toBe(1)
    await view.graceful.shutdown()
    expect(listener.listening).toBe(true)
    detach()
    await new Promise((resolve) => listener.close(resolve))

    const alone = createAdapterGraceful(quiet)
    const only = net.createServer()
    alone.attachListener(only)
    expect(alone.graceful.ready).toBe(false)
    await listen(only)
    expect(alone.graceful.ready).toBe(true)
    await alone.graceful.shutdown()
    await new Promise((resolve) => only.close(resolve))
  })

  it('refuseReloadWhen: a reason refuses the reload before any process starts, named in its result', async () => {
    const view = createAdapterGraceful({ ...quiet, reload: { signal: false } })
    const web = http.createServer()
    view.graceful.attach(web)
    await listen(web)
    const detach = view.refuseReloadWhen(() => 'a socket nobody can hand over')
    expect(await view.graceful.reload()).toMatchObject({ ok: false, pid: null, reason: 'a socket nobody can hand over' })
    detach()
    await view.graceful.shutdown()
    expect(web.listening).toBe(false)
  })
})
