// systemd is told the truth about an in-place restart (issue 20): the app runs
// as a `Type=notify-reload` service would, with NOTIFY_SOCKET pointing at a
// datagram listener this test starts (CI has no systemd as PID 1), and really
// reloads. The messages, in order: READY=1 at startup; on SIGHUP RELOADING=1
// with MONOTONIC_USEC, then READY=1 with the new MAINPID after the hand-over;
// a failed reload ends with READY=1 and a STATUS saying why (the old main PID
// stays); SIGTERM gives STOPPING=1. The old process of a reload never sends
// STOPPING=1 (systemd would stop the whole service).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { sendRequest } from '@graceful/test-kit'
import { Processes } from '@graceful/test-kit/processes'
import { findSystemdNotify, hasPython3, notifySocket } from './helpers/notify-socket.js'
import { underSubreaper } from './helpers/subreaper.js'

const binary = findSystemdNotify()
const python = hasPython3()
const required = process.env.CI === 'true' || process.env.CI === '1'
const app = fileURLToPath(new URL('./fixtures/systemd-app.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'graceful-systemd-'))
const processes = new Processes()

afterEach(async () => { await processes.killAll() })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe.skipIf((!binary || !python) && !required)('systemd notifications (sd_notify through systemd-notify)', () => {
  it('READY=1, RELOADING=1 + MONOTONIC_USEC, READY=1 + the new MAINPID, a failed reload, STOPPING=1', { timeout: 60_000 }, async () => {
    if (!binary || !python) throw new Error('systemd-notify or python3 not found: install them with `apt-get install -y systemd python3` (.ci/run does)')
    const socket = join(dir, 'notify.sock')
    const boot = join(dir, 'boot')
    writeFileSync(boot, 'ok')
    const { messages, started: listener } = await notifySocket(processes, socket)
    const args = underSubreaper(process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', app])
    if (!args) throw new Error('no prctl number for this architecture')
    const service = processes.spawn('systemd app', 'perl', args, {
      env: { ...process.env, NODE_OPTIONS: '', NOTIFY_SOCKET: socket, BOOT_CONTROL: boot },
    })
    const failure = () => `app:\n${service.output()}\nnotify socket:\n${listener.output()}`
    const texts = () => messages().map((message) => message.text)
    const waitFor = async (count: number) => {
      await vi.waitFor(() => { if (messages().length < count) throw new Error(`${messages().length} of ${count} messages:\n${failure()}`) }, { timeout: 15_000, interval: 20 })
    }
    const [, first] = await service.line(/^pid (\d+)$/, 15_000)
    const [, port] = await service.line(/^listening (\d+)$/, 15_000)
    await waitFor(1)
    expect(texts()).toEqual([`READY=1\nMAINPID=${first}\nSTATUS=ready`])

    // A reload that works: the new process answers, then the old one is reaped.
    const before = process.hrtime.bigint() / 1000n
    process.kill(Number(first), 'SIGHUP')
    await waitFor(3)
    const [, second] = /^pid (\d+)$/.exec(service.lines.filter((line) => line.startsWith('pid ')).at(-1) ?? '') ?? []
    expect(second).not.toBe(first)
    const reloading = messages()[1]!
    expect(Object.keys(reloading.fields)).toEqual(['RELOADING', 'MONOTONIC_USEC', 'STATUS'])
    // CLOCK_MONOTONIC, taken when the reload started: after the signal was sent, before systemd received it.
    const monotonic = BigInt(reloading.fields.MONOTONIC_USEC ?? '0')
    expect(monotonic).toBeGreaterThanOrEqual(before)
    expect(monotonic).toBeLessThanOrEqual(reloading.receivedUs)
    expect(messages()[2]?.text).toBe(`READY=1\nMAINPID=${second}\nSTATUS=ready (reloaded: process ${second} serves)`)
    await service.line(new RegExp(`^reaped ${first} code 0$`), 15_000)
    expect(await sendRequest(Number(port), '/')).toMatchObject({ status: 200, body: second })

    // A reload that fails: READY=1 again, a status that says why, no MAINPID: the old process is still the main one.
    writeFileSync(boot, 'throw')
    process.kill(Number(second), 'SIGHUP')
    await waitFor(5)
    expect(messages()[3]?.fields).toMatchObject({ RELOADING: '1' })
    expect(messages()[4]?.fields).toEqual({ READY: '1', STATUS: expect.stringMatching(new RegExp(`^reload failed, process ${second} keeps serving: the new process exited \\(code 1\\) before it was ready`)) as unknown })
    expect(await sendRequest(Number(port), '/')).toMatchObject({ status: 200, body: second })

    // A stop: STOPPING=1 when the drain starts.
    process.kill(Number(second), 'SIGTERM')
    await service.line(new RegExp(`^reaped ${second} code 0$`), 15_000)
    await waitFor(6)
    expect(texts().slice(5)).toEqual(['STOPPING=1\nSTATUS=draining'])
    // Nothing else: no STOPPING=1 from the old process of the reload, no startup READY=1 from the new one.
    expect(texts().filter((text) => text.startsWith('STOPPING=1'))).toHaveLength(1)
    expect(existsSync(socket)).toBe(true)
    // Every process (the first, the reloaded one) took NOTIFY_SOCKET out of its environment.
    expect(service.lines.filter((line) => line.startsWith('NOTIFY_SOCKET '))).toEqual(['NOTIFY_SOCKET unset', 'NOTIFY_SOCKET unset'])
  })
})
