import { closeSync, openSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createGraceful } from '../../graceful.js'
import { readEnvironment, reloadEnv } from './inherit.js'
import { resolveOptions } from '../../options/options.js'
import type { GracefulOptions } from '../../types/options.js'
import type { GracefulEvents } from '../../types/lifecycle.js'

// The hand-over itself runs in real processes: test/e2e/reload-examples.test.ts.

const quiet = { signals: false, logger: { debug () {}, info () {}, warn () {}, error () {} } } as const

describe('the reload option', () => {
  it('is off by default; true means SIGHUP, 30 s to become ready, a 500 ms close window', () => {
    expect(resolveOptions({}).reload).toBeNull()
    expect(resolveOptions({ reload: false }).reload).toBeNull()
    expect(resolveOptions({ reload: true }).reload).toEqual({ signal: 'SIGHUP', timeout: 30_000, readinessDelay: 500, pidFile: null })
    expect(resolveOptions({ reload: { signal: false, timeout: 5000, readinessDelay: 0 } }).reload).toEqual({ signal: null, timeout: 5000, readinessDelay: 0, pidFile: null })
    // The close window fits in a small budget.
    expect(resolveOptions({ timeout: 400, reload: true }).reload?.readinessDelay).toBe(150)
  })

  it.each([
    [{ reload: 'yes' }, 'reload'],
    [{ reload: [] }, 'reload'],
    [{ reload: { signal: 'SIGNOPE' } }, 'reload.signal'],
    [{ reload: { signal: 'SIGKILL' } }, 'reload.signal'],
    [{ reload: { signal: 'SIGTERM' } }, 'reload.signal'],
    [{ signals: ['SIGHUP'], reload: true }, 'reload.signal'],
    [{ reload: { timeout: 0 } }, 'reload.timeout'],
    [{ reload: { timeout: Infinity } }, 'reload.timeout'],
    [{ reload: { timeout: 2 ** 31 } }, 'reload.timeout'],
    [{ reload: { readinessDelay: -1 } }, 'reload.readinessDelay'],
    [{ timeout: 1000, reload: { readinessDelay: 1000 } }, 'reload.readinessDelay'],
    [{ reload: { delay: 1 } }, 'reload.delay'],
    [{ reload: { pidFile: '' } }, 'reload.pidFile'],
    [{ reload: { pidFile: 3 } }, 'reload.pidFile'],
    [{ reload: { pidFile: '/no/such/folder/app.pid' } }, 'reload.pidFile'],
  ])('refuses %o, naming %s', (options, option) => {
    expect(() => createGraceful(options as GracefulOptions)).toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option }))
  })

  it('listens for its signal only while on: SIGHUP would otherwise kill the process', async () => {
    const before = process.listenerCount('SIGHUP')
    const off = createGraceful(quiet)
    expect(process.listenerCount('SIGHUP')).toBe(before)
    await off.shutdown()

    const on = createGraceful({ ...quiet, reload: true })
    expect(process.listenerCount('SIGHUP')).toBe(before + 1)
    await on.shutdown()
    expect(process.listenerCount('SIGHUP')).toBe(before)
  })

  it('belongs to one instance per process; a refused one leaves nothing behind', async () => {
    const signals = process.listenerCount('SIGUSR2')
    const sigterm = process.listenerCount('SIGTERM')
    const first = createGraceful({ ...quiet, reload: { signal: 'SIGUSR2' } })
    expect(() => createGraceful({ ...quiet, signals: ['SIGTERM'], reload: { signal: 'SIGUSR2' } }))
      .toThrow(expect.objectContaining({ code: 'ERR_GRACEFUL_INVALID_OPTION', option: 'reload' }))
    expect(process.listenerCount('SIGUSR2')).toBe(signals + 1)
    expect(process.listenerCount('SIGTERM')).toBe(sigterm)
    await first.shutdown()
    // Released with the shutdown: another instance may have it now.
    const second = createGraceful({ ...quiet, reload: { signal: false } })
    await second.shutdown()
    expect(process.listenerCount('SIGUSR2')).toBe(signals)
  })
})

describe('graceful.reload()', () => {
  it('without the option: ok false, nothing started', async () => {
    const graceful = createGraceful(quiet)
    expect(await graceful.reload()).toMatchObject({ ok: false, reason: 'the reload option is off', pid: null })
    await graceful.shutdown()
  })

  it('refuses, reports and keeps serving when a server is not listening, or once draining', async () => {
    const graceful = createGraceful({ ...quiet, reload: { signal: false } })
    const failed: GracefulEvents['reloadFailed'][0][] = []
    graceful.on('reloadFailed', (result) => failed.push(result))
    expect(await graceful.reload()).toMatchObject({ ok: false, reason: 'no server is attached' })
    const server = http.createServer()
    graceful.attach(server)
    expect(await graceful.reload()).toMatchObject({ ok: false, reason: '1 of 1 attached server(s) are not listening' })
    const shutdown = graceful.shutdown()
    expect(await graceful.reload()).toMatchObject({ ok: false, reason: 'this process is already draining' })
    await shutdown
    expect(failed.map((result) => result.reason)).toEqual([
      'no server is attached',
      '1 of 1 attached server(s) are not listening',
      'this process is already draining',
    ])
  })
})

describe('inherited sockets (the new process, systemd)', () => {
  it('takes a reload\'s descriptors only from its own parent, with their addresses, and clears the environment', () => {
    const env = { [reloadEnv.fds]: '3,4', [reloadEnv.addresses]: '["127.0.0.1:80","/run/a.sock"]', [reloadEnv.readyFd]: '5', [reloadEnv.parent]: '100', KEEP: '1' }
    const alive = () => true
    expect(readEnvironment({ ...env }, 200, 100, alive)).toMatchObject({
      source: 'reload',
      sockets: [{ fd: 3, address: '127.0.0.1:80', server: null }, { fd: 4, address: '/run/a.sock', server: null }],
      readyFd: 5,
    })
    // A grandchild that inherited the environment (its grandparent lives): not its sockets.
    const leaked = { ...env }
    expect(readEnvironment(leaked, 300, 200, alive)).toMatchObject({ source: null, sockets: [] })
    expect(leaked).toEqual({ KEEP: '1' })
    expect(readEnvironment({ ...env, [reloadEnv.fds]: '3,x' }, 200, 100, alive)).toMatchObject({ source: null })
  })

  it('knows a new process whose old one died before it started (orphaned, holding the ready pipe): it must not bind on its own', () => {
    const fd = openSync(fileURLToPath(import.meta.url), 'r')
    const env = { [reloadEnv.fds]: '3', [reloadEnv.readyFd]: String(fd), [reloadEnv.parent]: '100' }
    try {
      expect(readEnvironment({ ...env }, 200, 1, () => false)).toMatchObject({ source: null, orphanedFrom: 100 })
    } finally {
      closeSync(fd)
    }
    // Without the pipe: a grandchild, whatever became of the old process.
    expect(readEnvironment({ ...env }, 200, 1, () => false).orphanedFrom).toBeUndefined()
  })

  it('takes LISTEN_FDS only when LISTEN_PID is this process, from fd 3', () => {
    const env = { LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'a:b' }
    const ours = { ...env }
    expect(readEnvironment(ours, 42, 1)).toMatchObject({ source: 'systemd', sockets: [{ fd: 3, address: null }, { fd: 4, address: null }], readyFd: null })
    expect(ours).toEqual({})
    const theirs = { ...env }
    expect(readEnvironment(theirs, 43, 1)).toMatchObject({ source: null, sockets: [] })
    // Meant for another process: left for it.
    expect(theirs).toEqual(env)
    expect(readEnvironment({ LISTEN_FDS: '0', LISTEN_PID: '42' }, 42, 1)).toMatchObject({ source: null })
  })

  it('leaves a plain server.listen() alone when nothing was inherited', async () => {
    const graceful = createGraceful(quiet)
    const server = http.createServer()
    graceful.attach(server)
    expect(Object.hasOwn(server, 'listen')).toBe(false)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    expect(server.listening).toBe(true)
    await graceful.shutdown()
  })
})
