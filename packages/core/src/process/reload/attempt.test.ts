import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startAttempt, type AttemptOptions } from './attempt.js'

// The state machine alone, on tiny real processes (node -e): the hand-over
// itself is in test/e2e/reload*.test.ts.

const base: AttemptOptions = { command: process.execPath, args: [], cwd: tmpdir(), env: {}, fds: [], timeout: 10_000, sockets: 0 }

/** A child that says `line` on the ready pipe (fd 3, as no socket is handed over), then stays. */
const says = (line: string) => ['-e', `require('fs').writeSync(3, ${JSON.stringify(line)}); setInterval(() => {}, 1000)`]

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a reload attempt', () => {
  it('a program that cannot be spawned fails (no pid, no unhandled error)', async () => {
    const outcome = await startAttempt({ ...base, command: join(tmpdir(), 'no-such-node') }).outcome
    expect(outcome).toMatchObject({ ok: false, pid: null })
    expect(outcome.ok === false && outcome.reason).toContain('could not be started: spawn')
  })

  it('a deleted folder to start in fails, naming it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'graceful-attempt-'))
    rmSync(cwd, { recursive: true })
    const outcome = await startAttempt({ ...base, cwd, args: ['-e', ''] }).outcome
    expect(outcome.ok === false && outcome.reason).toContain(cwd)
  })

  it('"ready <n>" with every socket: the one success', async () => {
    const attempt = startAttempt({ ...base, args: says('ready 0\n') })
    const outcome = await attempt.outcome
    expect(outcome).toEqual({ ok: true, pid: attempt.pid })
    // Not killed: it serves now. (Killed here only to clean up.)
    expect(alive(attempt.pid as number)).toBe(true)
    process.kill(attempt.pid as number, 'SIGKILL')
  })

  it('a bare "ready" (a new process running an earlier version, which says it once every socket is claimed) succeeds', async () => {
    const attempt = startAttempt({ ...base, sockets: 2, args: says('ready\n') })
    expect(await attempt.outcome).toEqual({ ok: true, pid: attempt.pid })
    process.kill(attempt.pid as number, 'SIGKILL')
  })

  it('"ready" owning fewer sockets than handed over fails, and the child is killed and reaped', async () => {
    const attempt = startAttempt({ ...base, sockets: 2, args: says('ready 1\n') })
    const outcome = await attempt.outcome
    expect(outcome).toMatchObject({ ok: false, reason: 'the new process owns 1 of the 2 socket(s) handed over', signal: 'SIGKILL' })
    expect(alive(attempt.pid as number)).toBe(false)
  })

  it('"unclaimed <addresses>" fails at once, naming them', async () => {
    const outcome = await startAttempt({ ...base, args: says('unclaimed 127.0.0.1:8080\n') }).outcome
    expect(outcome.ok === false && outcome.reason).toContain('without claiming the inherited socket(s) 127.0.0.1:8080')
  })

  it('the timeout decides once: the child is killed and reaped before the outcome settles', async () => {
    const attempt = startAttempt({ ...base, timeout: 200, args: ['-e', 'setInterval(() => {}, 1000)'] })
    const outcome = await attempt.outcome
    expect(outcome).toMatchObject({ ok: false, reason: 'the new process was not ready within 200 ms (killed)', signal: 'SIGKILL' })
    expect(alive(attempt.pid as number)).toBe(false)
  })

  it('abort() while booting: fails with its reason, resolves once the child is reaped; a second abort changes nothing', async () => {
    const attempt = startAttempt({ ...base, args: ['-e', 'setInterval(() => {}, 1000)'] })
    await attempt.abort('stopping')
    expect(alive(attempt.pid as number)).toBe(false)
    await attempt.abort('again')
    expect(await attempt.outcome).toMatchObject({ ok: false, reason: 'stopping', signal: 'SIGKILL' })
  })

  it('a spawn that throws (bad arguments) is a failed outcome, not an exception', async () => {
    const outcome = await startAttempt({ ...base, command: 'node\0' }).outcome
    expect(outcome).toMatchObject({ ok: false, pid: null })
  })
})
