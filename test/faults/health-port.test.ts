import { describe, expect, it, vi } from 'vitest'
import { openConnection, patience, sendRequest, startChild, tryConnect, within, type ChildApp } from '@graceful/test-kit'

/** Asks the child where its health listener is (test/fixtures/serve.ts answers over IPC). */
async function healthPortOf (app: ChildApp): Promise<number> {
  let port: number | null = null
  const onMessage = (message: { type?: string, port?: number | null }) => { if (message.type === 'health-port') port = message.port ?? null }
  app.child.on('message', onMessage)
  try {
    await vi.waitFor(() => {
      if (port === null) app.send('health-port')
      expect(port, 'the health listener to listen').not.toBeNull()
    }, patience)
  } finally {
    app.child.off('message', onMessage)
  }
  return port!
}

// A real SIGTERM to a forked child: the health port outlives the app's listener, and the exit.
describe('faults: health on its own port, through a signal', () => {
  it('answers readiness 503 and liveness 200 while the app listener is closed, then goes with the process', async () => {
    await using app = await startChild('node:http', { timeout: 5000, health: { port: 0, host: '127.0.0.1' } }, { REPORT_SIGNALS: '1' })
    const health = await healthPortOf(app)
    expect((await sendRequest(health, '/readyz')).status).toBe(200)
    await using busy = await openConnection(app.port)
    const held = busy.request('/slow')
    await vi.waitFor(() => expect(app.held.length, 'the request to reach the child').toBe(1), patience)

    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the child to handle SIGTERM').toBe(1), patience)
    await vi.waitFor(async () => expect(await tryConnect(app.port), 'the app listener to close').toBe('ECONNREFUSED'), patience)
    const ready = await sendRequest(health, '/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    expect((await sendRequest(health, '/livez')).status).toBe(200)

    app.send('release-slow')
    expect((await held).status).toBe(200)
    const exit = await within(app.exited, 5000 + 1500, 'exit')
    expect(exit.code).toBe(0)
    expect(await tryConnect(health)).toBe('ECONNREFUSED')
  })
})
