import http from 'node:http'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import type { Logger } from '@graceful/core'
import { adapterView } from '@graceful/core/adapter'
import { exitWithin, holdRequest, inProcessGraceful, listening, patience, sendRequest, startChild, tryConnect, within, type ChildApp } from '@graceful/test-kit'

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
    await using held = await holdRequest(app)

    app.kill('SIGTERM')
    await vi.waitFor(() => expect(app.signals.length, 'the child to handle SIGTERM').toBe(1), patience)
    await vi.waitFor(async () => expect(await tryConnect(app.port), 'the app listener to close').toBe('ECONNREFUSED'), patience)
    const ready = await sendRequest(health, '/readyz')
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining' })
    expect((await sendRequest(health, '/livez')).status).toBe(200)

    expect((await held.release()).status).toBe(200)
    const exit = await exitWithin(app, 5000)
    expect(exit.code).toBe(0)
    expect(await tryConnect(health)).toBe('ECONNREFUSED')
  })
})

describe('faults: health and control listeners', () => {
  it('never keep the process alive: a process with only them exits by itself', async () => {
    const child = fork(fileURLToPath(new URL('./fixtures/health-port.ts', import.meta.url)), {
      execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const ready = await within(new Promise<{ ports: number[] }>((resolve) => child.once('message', resolve)), 15_000, 'the child to listen')
      expect(ready.ports).toHaveLength(2)
      expect(await within(exited, 10_000, 'the child to exit by itself')).toBe(0)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })

  it('a port already taken: logged as an error naming the listener, the instance keeps working', async () => {
    await using taken = await listening(http.createServer().listen(0, '127.0.0.1'))
    const errors: { fields: Record<string, unknown>, message: string }[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (fields, message) => { errors.push({ fields, message }) } }
    const graceful = inProcessGraceful({ logger, health: { port: taken.port, host: '127.0.0.1' } })
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(['graceful: the health listener failed']), patience)
    expect(errors[0]!.fields).toMatchObject({ port: taken.port, err: expect.objectContaining({ code: 'EADDRINUSE' }) })
    expect(graceful.pause()).toBe(true)
    expect((await graceful.shutdown()).outcome).toBe('clean')
  })

  it('logs each pause and resume through the control surface with the caller\'s address', async () => {
    const infos: { fields: Record<string, unknown>, message: string }[] = []
    const logger: Logger = { debug: () => {}, info: (fields, message) => { infos.push({ fields, message }) }, warn: () => {}, error: () => {} }
    const graceful = inProcessGraceful({ logger, control: { token: 'x'.repeat(32), port: 0 } })
    const control = adapterView(graceful).sideListeners.control!
    const port = (await listening(control)).port
    const authorization = `Bearer ${'x'.repeat(32)}`
    const pause = await sendRequest(port, '/pause', { method: 'POST', headers: { authorization } })
    expect(pause.status, pause.body).toBe(200)
    expect(graceful.stats().paused).not.toBeNull()
    const resume = await sendRequest(port, '/resume', { method: 'POST', headers: { authorization } })
    expect(resume.status, resume.body).toBe(200)
    expect(graceful.stats().paused).toBeNull()
    expect(infos.filter((i) => i.message.includes('control surface'))).toEqual([
      { message: 'graceful: pause through the control surface', fields: { action: 'pause', reason: undefined, remote: '127.0.0.1' } },
      { message: 'graceful: resume through the control surface', fields: { action: 'resume', reason: undefined, remote: '127.0.0.1' } },
    ])
  })
})
