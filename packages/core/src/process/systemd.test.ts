import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createSystemdNotifier, takeSocket } from './systemd.js'

// The messages themselves, sent to a datagram listener by a real reload: test/e2e/systemd-notify.test.ts.

const dir = mkdtempSync(join(tmpdir(), 'graceful-systemd-unit-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function spyLogger () {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
}

describe('systemd notifications', () => {
  it('do nothing without NOTIFY_SOCKET: no process started, nothing logged', async () => {
    const log = spyLogger()
    const notifier = createSystemdNotifier({ log, socket: null, command: join(dir, 'never-run') })
    notifier.ready()
    // Nothing for a drain to wait for: a task here would hold its idle-exit fast path.
    expect(notifier.stopping()).toBeNull()
    await notifier.flush()
    expect(log.warn).not.toHaveBeenCalled()
  })

  it('without systemd-notify: one warning naming it, then silence; nothing throws, flush resolves', async () => {
    const log = spyLogger()
    const notifier = createSystemdNotifier({ log, socket: join(dir, 'notify.sock'), command: join(dir, 'missing-systemd-notify') })
    notifier.ready()
    notifier.reloading()
    notifier.outcome({ ok: true, pid: 1234, durationMs: 1 })
    void notifier.stopping()
    await notifier.flush()
    expect(log.warn).toHaveBeenCalledTimes(1)
    expect(log.warn.mock.calls[0]?.[1]).toMatch(/systemd-notify was not found/)
  })

  it('a socket that is gone: one warning, later messages still tried, flush resolves', async () => {
    const log = spyLogger()
    // The real systemd-notify where installed (it exits 1: "No such file or directory"), else `false` in its place.
    const command = existsSync('/usr/bin/systemd-notify') ? '/usr/bin/systemd-notify' : 'false'
    const notifier = createSystemdNotifier({ log, socket: join(dir, 'gone.sock'), command })
    notifier.ready()
    notifier.outcome({ ok: false, reason: 'the new process exited\n(code 1)', pid: 1234, code: 1, signal: null, durationMs: 1 })
    void notifier.stopping()
    await notifier.flush()
    expect(log.warn).toHaveBeenCalledTimes(1)
    expect(log.warn.mock.calls[0]?.[1]).toMatch(/could not notify systemd/)
  })

  it('NOTIFY_SOCKET is taken out of the environment: child processes of the app never speak for the service', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/usr/bin' }
    expect(takeSocket(env)).toBe('/run/systemd/notify')
    expect(env).toEqual({ PATH: '/usr/bin' })
    expect(takeSocket({ NOTIFY_SOCKET: '' })).toBeNull()
    expect(takeSocket({})).toBeNull()
  })

  it('startup READY=1 is sent once, and never by a process a reload started', async () => {
    const log = spyLogger()
    const sent: string[][] = []
    // A stand-in for systemd-notify that records its arguments, one run a line.
    const record = join(dir, 'record.sh')
    const out = join(dir, 'record.txt')
    writeFileSync(record, `#!/bin/sh\nprintf '%s|' "$@" >> ${JSON.stringify(out)}\necho >> ${JSON.stringify(out)}\n`)
    chmodSync(record, 0o755)
    const first = createSystemdNotifier({ log, socket: '/run/x', command: record })
    first.ready()
    first.ready()
    await first.flush()
    const child = createSystemdNotifier({ log, socket: '/run/x', command: record, reloadChild: true })
    child.ready()
    child.reloading()
    await child.flush()
    for (const line of (existsSync(out) ? readFileSync(out, 'utf8') : '').split('\n').filter(Boolean)) sent.push(line.split('|').filter(Boolean))
    expect(sent.map((fields) => fields[0])).toEqual(['READY=1', 'RELOADING=1'])
    expect(sent[0]).toEqual(['READY=1', `MAINPID=${process.pid}`, 'STATUS=ready'])
    expect(sent[1]?.[1]).toMatch(/^MONOTONIC_USEC=\d+$/)
    expect(log.warn).not.toHaveBeenCalled()
  })
})
