// The in-place restart on a bad day: every fault below once took the service
// down, or made a reload report success while nothing served. Each test runs
// test/e2e/fixtures/reload-app.ts under a subreaper (which prints every PID it
// reaps: a process the app left behind shows up there), with the next
// version's behaviour written to the control file before the reload.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { sendRequest, within } from '@graceful/test-kit'
import { Processes } from '@graceful/test-kit/processes'
import { startLoad, type LoadReport } from './helpers/load.js'
import { appEntry, gone, killApps, nthLine, startApp, writeControl, type App } from './helpers/reload-app.js'

const dir = mkdtempSync(join(tmpdir(), 'graceful-reload-faults-'))
const control = join(dir, 'control.json')
const processes = new Processes()
const apps = new Set<App>()

afterEach(async () => {
  for (const app of apps) killApps(app.pids)
  await within(Promise.all([...apps].map((app) => app.wrapper.exited)), 10_000, 'every subreaper to exit')
  apps.clear()
  await processes.killAll()
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function start (...args: Parameters<typeof startApp> extends [unknown, infer O] ? [O] : never): Promise<App> {
  const app = await startApp(processes, ...args)
  apps.add(app)
  return app
}

/** SIGHUP with `next` on disk; resolves with the new PID once the old process exited (its status). */
async function reload (app: App, next: Parameters<typeof writeControl>[1], signal: NodeJS.Signals = 'SIGHUP'): Promise<{ pid: number, status: string }> {
  writeControl(app.control, next)
  const old = app.current
  const before = app.wrapper.lines.filter((line) => line.startsWith(`pid `)).length
  process.kill(old, signal)
  const [, pid] = await nthLine(app.wrapper, /^pid (\d+) version/, before)
  const [, status] = await nthLine(app.wrapper, new RegExp(`^reaped ${old} (.+)$`), 0)
  app.current = Number(pid)
  return { pid: Number(pid), status: status ?? '' }
}

/** SIGHUP (or SIGUSR2: graceful.reload()) with `next` on disk, expected to fail: the reloadFailed event. */
async function failedReload (app: App, next: Parameters<typeof writeControl>[1], signal: NodeJS.Signals = 'SIGHUP'): Promise<{ reason: string, pid: number | null, durationMs: number }> {
  writeControl(app.control, next)
  const before = app.wrapper.lines.filter((line) => line.startsWith('event reloadFailed ')).length
  process.kill(app.current, signal)
  const [, event] = await nthLine(app.wrapper, /^event reloadFailed (.+)$/, before, 40_000)
  return JSON.parse(event ?? '{}') as { reason: string, pid: number | null, durationMs: number }
}

const port = (app: App, i = 0) => Number(app.addresses[i])

/** GET `/` (on a port or a Unix socket) answered 200 by the app: `<name> <version> <pid> <greeting>`. */
async function expectServed (to: number | { socketPath: string }, body: RegExp): Promise<void> {
  expect(await sendRequest(to, '/')).toMatchObject({ status: 200, body: expect.stringMatching(body) as unknown })
}

describe('in-place restart faults', () => {
  it('a UNIX socket keeps its path through reloads and the old process\'s exit', { timeout: 60_000 }, async () => {
    const socketPath = join(dir, 'app.sock')
    const servers = [{ name: 'app', path: socketPath }]
    const app = await start({ control, first: { version: 1, servers } })
    const load = startLoad({ target: { socketPath }, fast: 2, pauseMs: 10, slow: 1, slowMs: 100, requestTimeoutMs: 5000 })
    let report: LoadReport
    try {
      await load.more(20)
      for (const version of [2, 3]) {
        const { pid, status } = await reload(app, { version, servers })
        expect(status).toBe('code 0')
        // A new connection, after the old process closed its handle and exited.
        await expectServed({ socketPath }, new RegExp(`^app ${version} ${pid} `))
        await load.more(20)
      }
    } finally {
      report = await load.stop()
    }
    expect(report.failures, app.wrapper.output()).toEqual({})
  })

  it('a new process that cannot be spawned (the folder it starts in was deleted): reloadFailed, the old one serves on', { timeout: 40_000 }, async () => {
    const release = mkdtempSync(join(dir, 'release-'))
    const app = await start({ control, first: { version: 1 }, cwd: release })
    rmSync(release, { recursive: true })
    const failure = await failedReload(app, { version: 2 })
    expect(failure.reason).toContain('could not be started')
    expect(failure.pid).toBeNull()
    // Still alive and serving, after the event loop ran on.
    await expectServed(port(app), new RegExp(`^app 1 ${app.current} `))
    expect(app.wrapper.alive()).toBe(true)
  })

  it('a "ready" read in the same loop turn as the timeout loses to it: one outcome, the child killed and reaped, the old one serves', { timeout: 40_000 }, async () => {
    const readyMarker = join(dir, 'ready-marker')
    const app = await start({ control, first: { version: 1 }, env: { RELOAD_TIMEOUT: '1500' } })
    // The old process blocks its loop until the new one said ready and the timeout passed.
    const failure = await failedReload(app, { version: 2, blockParent: true, readyMarker }, 'SIGUSR2')
    expect(failure.reason).toBe('the new process was not ready within 1500 ms (killed)')
    const [, result] = await nthLine(app.wrapper, /^result (.+)$/, 0)
    expect(JSON.parse(result ?? '{}')).toMatchObject({ ok: false })
    const child = failure.pid as number
    expect(gone(child)).toBe(true)
    // The old process reaped it: the subreaper never saw it.
    expect(app.wrapper.lines.some((line) => line.startsWith(`reaped ${child} `))).toBe(false)
    await expectServed(port(app), new RegExp(`^app 1 ${app.current} `))
    // No hand-over happened: no event, no drain.
    expect(app.wrapper.lines.some((line) => line.startsWith('event reload '))).toBe(false)
  })

  it('SIGTERM while the new process boots: it is stopped and reaped first, then the old one drains and exits', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1 } })
    const old = app.current
    writeControl(control, { version: 2, boot: 'hang' })
    process.kill(old, 'SIGHUP')
    const [, booting] = await nthLine(app.wrapper, /^pid (\d+) version 2$/, 0)
    process.kill(old, 'SIGTERM')
    const [, status] = await nthLine(app.wrapper, new RegExp(`^reaped ${old} (.+)$`), 0)
    expect(status).toBe('code 0')
    const [, event] = await nthLine(app.wrapper, /^event reloadFailed (.+)$/, 0)
    expect(JSON.parse(event ?? '{}')).toMatchObject({ ok: false, pid: Number(booting), signal: 'SIGKILL' })
    // Reaped by the old process, before it exited: the subreaper never saw it.
    expect(gone(Number(booting))).toBe(true)
    expect(app.wrapper.lines.some((line) => line.startsWith(`reaped ${booting} `))).toBe(false)
    await within(app.wrapper.exited, 10_000, 'the subreaper to exit')
  })

  it('a new process whose old one is gone before it starts exits instead of listening on its own', { timeout: 40_000 }, async () => {
    // What a reload hands down (a listening socket at fd 3, the ready pipe at fd 4), from a parent that is gone.
    const listener = createServer()
    await new Promise<void>((resolve) => { listener.listen(0, '127.0.0.1', resolve) })
    const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd
    const dead = processes.spawn('a parent that is gone', process.execPath, ['-e', ''])
    await dead.exited
    writeControl(control, { version: 1 })
    const orphan = processes.spawn('an orphaned new process', process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', appEntry], {
      cwd: join(appEntry, '..'),
      env: { ...process.env, NODE_OPTIONS: '', RELOAD_CONTROL: control, GRACEFUL_RELOAD_FDS: '3', GRACEFUL_RELOAD_READY_FD: '4', GRACEFUL_RELOAD_PPID: String(dead.pid) },
      fds: [fd, fd],
    })
    listener.close()
    expect(await within(orphan.exited, 20_000, 'the orphan to exit')).toEqual({ code: 1, signal: null })
    expect(orphan.output()).toContain(`started by a reload of ${dead.pid}, which is gone: exiting instead of listening on its own`)
    expect(orphan.lines.some((line) => line.startsWith('listening'))).toBe(false)
  })

  it('SIGTERM, then SIGHUP while draining: no new process, the drain goes on', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1 } })
    const slow = sendRequest(port(app), '/slow?ms=1500')
    await nthLine(app.wrapper, /^slow 1500$/, 0)
    process.kill(app.current, 'SIGTERM')
    // Draining before the SIGHUP is sent: Linux delivers two pending signals lowest
    // number first, SIGHUP (1) before SIGTERM (15), and that order is the other test.
    await nthLine(app.wrapper, /^event draining SIGTERM$/, 0)
    const failure = await failedReload(app, { version: 2 })
    expect(failure.reason).toBe('this process is already draining')
    expect(await slow).toMatchObject({ status: 200, body: expect.stringMatching(new RegExp(`^app 1 ${app.current} `)) as unknown })
    // The drain ended the way a drain ends: exit 0, reaped by the subreaper.
    const [, status] = await nthLine(app.wrapper, new RegExp(`^reaped ${app.current} (.+)$`), 0)
    expect(status).toBe('code 0')
    await within(app.wrapper.exited, 10_000, 'the subreaper to exit')
    expect(app.pids.size).toBe(1)
  })

  it('sockets are claimed by address: a version that attaches its servers in the other order keeps each port', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1, servers: [{ name: 'a' }, { name: 'b' }] } })
    const [a, b] = app.addresses.map(Number)
    const { pid } = await reload(app, { version: 2, servers: [{ name: 'b', port: b }, { name: 'a', port: a }] })
    await expectServed(a as number, new RegExp(`^a 2 ${pid} `))
    await expectServed(b as number, new RegExp(`^b 2 ${pid} `))
  })

  it('a version that claims one socket fewer fails at once, naming its address, not after reload.timeout', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1, servers: [{ name: 'a' }, { name: 'b' }] }, env: { RELOAD_TIMEOUT: '30000' } })
    const [a, b] = app.addresses
    const failure = await failedReload(app, { version: 2, servers: [{ name: 'a', port: Number(a) }] })
    expect(failure.reason).toContain(`127.0.0.1:${b}`)
    expect(failure.durationMs).toBeLessThan(15_000)
    await vi.waitFor(() => expect(gone(failure.pid as number)).toBe(true), { timeout: 5000, interval: 50 })
    await expectServed(Number(b), new RegExp(`^b 1 ${app.current} `))
  })

  it('a listen() on an address that was not handed over is an error naming it, and the reload fails', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1 } })
    const failure = await failedReload(app, { version: 2, servers: [{ name: 'app', port: 1 }] })
    expect(failure.reason).toContain('exited')
    expect(app.wrapper.output()).toContain('listen(127.0.0.1:1) after a reload, but no socket handed over has that address')
    await expectServed(port(app), new RegExp(`^app 1 ${app.current} `))
  })

  it('a listener the app did not attach refuses the reload, by address', { timeout: 40_000 }, async () => {
    const app = await start({ control, first: { version: 1, unattached: true } })
    const [, unattached] = await nthLine(app.wrapper, /^unattached (\d+)$/, 0)
    const failure = await failedReload(app, { version: 2 })
    expect(failure.reason).toContain(`listening on 127.0.0.1:${unattached} without attaching it`)
    expect(app.pids.size).toBe(1)
  })

  it('a PID file whose folder vanished: the new version refuses it at creation, the reload fails, the old one serves on', { timeout: 40_000 }, async () => {
    const folder = join(dir, 'run')
    mkdirSync(folder)
    const pidFile = join(folder, 'app.pid')
    const app = await start({ control, first: { version: 1 }, env: { PID_FILE: pidFile } })
    expect(readFileSync(pidFile, 'utf8')).toBe(`${app.current}\n`)
    rmSync(folder, { recursive: true })
    const failure = await failedReload(app, { version: 2 })
    expect(failure.reason).toBe('the new process exited (code 1) before it was ready')
    expect(app.wrapper.output()).toContain('option "reload.pidFile" must be a path in an existing folder this process can write to')
    await expectServed(port(app), new RegExp(`^app 1 ${app.current} `))
  })

  it('values from --env-file are read again by the new process', { timeout: 40_000 }, async () => {
    const envFile = join(dir, 'app.env')
    writeFileSync(envFile, 'GREETING=one\n')
    const app = await start({ control, first: { version: 1 }, nodeArgs: [`--env-file=${envFile}`] })
    await expectServed(port(app), / one$/)
    writeFileSync(envFile, 'GREETING=two\n')
    await reload(app, { version: 2 })
    await expectServed(port(app), / two$/)
  })

  it('on a terminal, SIGHUP is a hang-up: the process drains and exits instead of reloading onto a dead terminal', { timeout: 40_000 }, async () => {
    writeControl(control, { version: 1 })
    // script(1) runs the app on a new pseudo-terminal, as an ssh session would.
    const command = [process.execPath, '--conditions=@graceful/source', '--import', 'tsx', appEntry].map((arg) => `'${arg}'`).join(' ')
    const wrapper = processes.spawn('reload-app on a terminal', 'script', ['-qfec', command, '/dev/null'], {
      cwd: join(appEntry, '..'),
      env: { ...process.env, NODE_OPTIONS: '', RELOAD_CONTROL: control },
    })
    const [, pid] = await wrapper.line(/^pid (\d+) version 1\r?$/, 20_000)
    await wrapper.line(/^listening /, 20_000)
    process.kill(Number(pid), 'SIGHUP')
    // script -e exits with the app's code: a clean drain, not a crash.
    expect(await within(wrapper.exited, 15_000, 'the app to exit')).toEqual({ code: 0, signal: null })
    expect(wrapper.output()).toContain('SIGHUP (a hang-up) shuts down')
    expect(wrapper.lines.filter((line) => line.startsWith('pid '))).toHaveLength(1)
  })
})
