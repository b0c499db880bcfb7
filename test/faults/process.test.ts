import http from 'node:http'
import { once } from 'node:events'
import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { createGraceful } from '@graceful/core'
import { afterTest, disposeAfterTest, openConnection, patience, sendRequest, startChild, within, type RawConnection } from '@graceful/test-kit'

// Process-level faults: real children, real signals.
const fixture = fileURLToPath(new URL('./fixtures/process.ts', import.meta.url))

interface Ready { type: 'ready', ports?: number[], sigtermListeners: number }

async function scenario (name: string, env: Record<string, string> = {}) {
  const child = fork(fixture, {
    execArgv: ['--conditions=@graceful/source', '--import', 'tsx'],
    env: { ...process.env, SCENARIO: name, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const hooks: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = new Promise<Ready>((resolve, reject) => {
    child.on('message', (message: Ready | { type: 'hook', name: string }) => {
      if (message.type === 'hook') hooks.push(message.name)
      else resolve(message)
    })
    void exited.then((code) => reject(new Error(`exited ${code} before ready`)))
  })
  return {
    child,
    hooks,
    exited,
    ready: await within(ready, 15_000, `${name} to start`),
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    },
  }
}

describe('faults: the process', () => {
  it('a release hook that waits for the server\'s \'close\' event, idle connections left to the exit: the event comes, the exit is at once', async () => {
    await using app = await scenario('close-event')
    await using idle = await openConnection(app.ready.ports![0]!)
    const res = await idle.request('/')
    expect(res).toMatchObject({ status: 200, body: 'ok' })
    expect(res.headers.connection?.toLowerCase()).toBe('keep-alive')
    const started = Date.now()
    app.child.kill('SIGTERM')
    expect(await within(app.exited, 5000, 'exit')).toBe(0)
    // Without the event the hook would wait for its timeout (releaseTimeout: 750 ms here) and be reported.
    expect(app.hooks).toEqual(['close event', 'callback'])
    expect(Date.now() - started).toBeLessThan(3000)
    // The idle connection was closed, not left open.
    await within(idle.ended, 5000, 'the FIN on the idle connection')
  })

  it.each([
    ['the reload option off', '0'],
    ['the reload option on, nothing booting', '1'],
  ])('SIGTERM with idle connections and nothing to wait for (%s, no systemd): the exit closes them, each gets its FIN', async (_name, reload) => {
    // The idle-exit fast path (lifecycle.ts exitClosesIdle()): ending 10,000
    // idle sockets one by one in JavaScript costs ~150 ms the kernel does for
    // free at exit. A task with nothing to wait for (systemd's STOPPING=1
    // without systemd, a reload's "stop the booting process" with none) once
    // took it away unnoticed; here, the connections still open at 'exit' tell.
    const dir = mkdtempSync(join(tmpdir(), 'graceful-idle-exit-'))
    afterTest(() => { rmSync(dir, { recursive: true, force: true }) })
    const report = join(dir, 'report.json')
    await using app = await scenario('idle-left-to-exit', { RELOAD: reload, REPORT_FILE: report, NOTIFY_SOCKET: '' })
    const idle: RawConnection[] = []
    for (let i = 0; i < 3; i++) idle.push(disposeAfterTest(await openConnection(app.ready.ports![0]!)))
    for (const connection of idle) expect((await connection.request('/')).status).toBe(200)
    // Past their reuse window (http1-reuse.ts, 50 ms): idle, not maybe reusing themselves.
    await new Promise((resolve) => setTimeout(resolve, 200))
    app.child.kill('SIGTERM')
    expect(await within(app.exited, 5000, 'exit')).toBe(0)
    expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual({ connections: 3, openAtExit: 3 })
    await within(Promise.all(idle.map((connection) => connection.ended)), 5000, 'the FIN on every idle connection')
  })

  it('Fastify after a readiness delay: app.close() in the release hook finds server.close() calling back, exit 0', async () => {
    // Fastify's close waits for server.close()'s callback; a 'close' net emitted first must not swallow it.
    await using app = await startChild('fastify', { timeout: 4000, readinessDelay: 300 })
    expect((await sendRequest(app.port, '/fast')).status).toBe(200)
    app.kill('SIGTERM')
    const exit = await within(app.exited, 8000, 'exit')
    expect(exit.code, app.logs.map((line) => line.msg).join('\n')).toBe(0)
  })

  it('a signal before listen: the drain has nothing to wait for, hooks run, exit 0', async () => {
    await using app = await scenario('before-listen')
    expect(await within(app.exited, 3000 + 1500, 'exit')).toBe(0)
    expect(app.hooks).toEqual(['release'])
  })

  it('two instances and a second copy of the package: one SIGTERM listener, one signal drains each once, one exit', async () => {
    await using app = await scenario('two-copies')
    expect(app.ready.sigtermListeners).toBe(1)
    for (const [index, port] of (app.ready.ports ?? []).entries()) {
      expect((await sendRequest(port, '/')).body).toBe(['a', 'b', 'copy'][index])
    }
    app.child.kill('SIGTERM')
    expect(await within(app.exited, 3000 + 1500, 'exit')).toBe(0)
    expect([...app.hooks].sort()).toEqual(['a', 'b', 'copy'])
  })

  it('shutdown() from inside a request handler: that request completes with Connection: close, the drain ends clean', async () => {
    const g = createGraceful({ signals: false, exit: false, logger: false })
    const server = http.createServer(g.handler((_req, res) => {
      void g.shutdown('admin')
      res.end('bye')
    }))
    g.attach(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const agent = new http.Agent({ keepAlive: true })
    const reply = await sendRequest((server.address() as AddressInfo).port, '/stop', { agent }).finally(() => agent.destroy())
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('bye')
    expect(reply.headers.connection).toBe('close')
    const summary = await within(g.shutdown(), 2000, 'the summary')
    expect(summary.trigger).toBe('admin')
    expect(summary.outcome).toBe('clean')
    expect(summary.requests.completed).toBe(1)
    expect(server.listening).toBe(false)
  })

  it('EADDRINUSE: a server that never listened does not hold the shutdown', async () => {
    const taken = http.createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    try {
      const g = createGraceful({ signals: false, exit: false, logger: false })
      const server = http.createServer(g.handler((_req, res) => { res.end() }))
      g.attach(server)
      const failed = once(server, 'error')
      server.listen((taken.address() as AddressInfo).port, '127.0.0.1')
      expect(((await failed)[0] as NodeJS.ErrnoException).code).toBe('EADDRINUSE')
      expect(g.ready).toBe(false)
      const summary = await within(g.shutdown(), 2000, 'the summary')
      expect(summary.outcome).toBe('clean')
      expect(summary.durations.total).toBeLessThan(2000)
    } finally {
      taken.close()
    }
  })

  it('10,000 idle keep-alive connections: every one gets its FIN, exit 0 well within the budget', async () => {
    await using app = await startChild('node:http', { timeout: 10_000 })
    const sockets: Socket[] = []
    const ended: Promise<unknown>[] = []
    try {
      for (let batch = 0; batch < 20; batch++) {
        const opened = Array.from({ length: 500 }, () => new Promise<void>((resolve, reject) => {
          const socket = connect({ port: app.port, host: '127.0.0.1' })
          sockets.push(socket)
          ended.push(new Promise((resolveEnd) => {
            socket.once('end', () => resolveEnd('fin'))
            socket.once('error', (error: NodeJS.ErrnoException) => resolveEnd(error.code))
            socket.once('close', () => resolveEnd('closed'))
          }))
          // One request each, answered: a real idle keep-alive connection the server has
          // accepted (a connection still in the kernel's accept queue is reset when the
          // listener closes, which is the listener's business, not this test's).
          socket.once('connect', () => { socket.write('GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n') })
          socket.once('data', () => {
            socket.resume()
            resolve()
          })
          socket.once('error', reject)
        }))
        await within(Promise.all(opened), 15_000, 'connections to open')
      }
      await vi.waitFor(() => expect(sockets.length, '10,000 sockets').toBe(10_000), patience)
      app.kill('SIGTERM')
      const exit = await within(app.exited, 10_000 + 1500, 'exit')
      expect(exit.code).toBe(0)
      const outcomes = await within(Promise.all(ended), 10_000, 'every socket to end')
      expect(outcomes.filter((outcome) => outcome !== 'fin')).toEqual([])
    } finally {
      for (const socket of sockets) socket.destroy()
    }
  }, 60_000)
})
