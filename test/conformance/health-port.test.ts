import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { adapterView } from '@graceful/core/adapter'
import type { Graceful } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, sendRequest, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

/** The port `health.port: 0` got. */
async function healthPort (graceful: Graceful): Promise<number> {
  const server = adapterView(graceful).sideListeners.health!
  if (!server.listening) await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

describe.each(targets)('health on its own port — $name', (target) => {
  it('answers liveness and readiness there, not on the app port, and outlives the drain', async () => {
    await using h = await startApp(target, { health: { port: 0, host: '127.0.0.1' } })
    const g = h.app.graceful
    const port = await healthPort(g)
    expect(await sendRequest(port, '/readyz')).toMatchObject({ status: 200, body: '{"status":"ready"}' })
    expect(await sendRequest(port, '/livez')).toMatchObject({ status: 200, body: '{"status":"ok"}' })
    expect((await sendRequest(port, '/fast')).status).toBe(404)
    expect((await sendRequest(port, '/readyz', { method: 'POST' })).status).toBe(405)
    // The app port carries no health routes: they are the app's business (404 here).
    expect((await sendRequest(h.app.port, '/readyz')).status).toBe(404)
    expect((await sendRequest(h.app.port, '/livez')).status).toBe(404)

    g.pause('maintenance')
    expect(JSON.parse((await sendRequest(port, '/readyz')).body)).toEqual({ status: 'paused', reason: 'maintenance' })
    g.resume()

    // A drain held by a request: the app's listener is closed, the health port still answers.
    await using conn = await openConnection(h.app.port)
    conn.send('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)
    const summary = g.shutdown()
    const ready = await sendRequest(port, '/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    expect((await sendRequest(port, '/livez')).status).toBe(200)
    h.slow.resolve()
    await within(summary, 10_000, 'the summary')
    // Closed at the end of the shutdown: nothing is left listening in-process.
    expect(adapterView(g).sideListeners.health!.listening).toBe(false)
  })
})
