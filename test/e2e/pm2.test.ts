// PM2's protocol, without PM2. PM2 stops an app with SIGINT, or with a
// 'shutdown' IPC message (`shutdown_with_message`), and with `wait_ready` waits for
// `process.send('ready')`. Core's `pm2` option (auto: on when PM2_HOME or pm_id is
// set) speaks it; a forked child with an IPC channel plays PM2's part.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { optionsFromEnvironment } from '@graceful/core'
import { resolveOptions } from '@graceful/core/adapter'
import { afterEach, describe, expect, it } from 'vitest'
import { sendRequest, within } from '@graceful/test-kit'
import { Processes, type Started } from '@graceful/test-kit/processes'

const fixture = fileURLToPath(new URL('./fixtures/pm2-app.ts', import.meta.url))
const processes = new Processes()

afterEach(async () => {
  await processes.killAll()
})

interface Child {
  started: Started
  port: number
  /** Every IPC message received, in order. */
  messages: unknown[]
  /** Resolves with the first message (from now or earlier) that matches. */
  message: (match: (message: unknown) => boolean, what: string) => Promise<unknown>
  /** Round trip on the IPC channel: whatever the child sent before 'pong' has arrived. */
  ping: () => Promise<void>
  send: (message: string) => void
}

/** `pm2Env`: what PM2 puts in the environment. `option`: core's `pm2` option, or undefined for auto. */
async function startApp ({ pm2Env, option, ipc = true, env = {} }: { pm2Env: boolean, option?: boolean, ipc?: boolean, env?: Record<string, string> }): Promise<Child> {
  const base = { ...process.env }
  delete base.PM2_HOME
  delete base.pm_id
  delete base.PM2_OPTION
  const started = processes.spawn('pm2 app', process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', fixture], {
    ipc,
    env: {
      ...base,
      NODE_OPTIONS: '',
      ...(pm2Env ? { pm_id: '0', PM2_HOME: '/nonexistent/.pm2' } : {}),
      ...(option === undefined ? {} : { PM2_OPTION: String(option) }),
      ...env,
    },
  })
  const messages: unknown[] = []
  const waiters = new Set<() => void>()
  started.child.on('message', (message) => {
    messages.push(message)
    for (const waiter of waiters) waiter()
  })
  const message = (match: (message: unknown) => boolean, what: string) => within(new Promise<unknown>((resolve) => {
    const check = () => {
      const found = messages.find(match)
      if (found === undefined) return
      waiters.delete(check)
      resolve(found)
    }
    waiters.add(check)
    check()
  }), 5000, what)
  const [, port] = await started.line(/^listening (\d+)$/, 15_000)
  let pings = 0
  return {
    started,
    port: Number(port),
    messages,
    message,
    ping: async () => {
      const seen = messages.filter(isPong).length
      pings++
      started.child.send('ping')
      await message(() => messages.filter(isPong).length > seen, `pong #${pings}`)
    },
    send: (text) => { started.child.send(text) },
  }
}

const isPong = (message: unknown) => typeof message === 'object' && message !== null && (message as { type?: string }).type === 'pong'

describe('PM2 protocol (core option pm2)', () => {
  it('sends "ready" once every attached server listens (auto: pm_id is set)', async () => {
    const app = await startApp({ pm2Env: true })
    // The first server listens, the second does not yet: no 'ready' may be sent.
    await app.ping()
    expect(app.messages).not.toContain('ready')
    app.send('listen-second')
    await app.message((message) => message === 'ready', "the 'ready' message")
    expect(await sendRequest(app.port, '/readyz')).toMatchObject({ status: 200 })
  })

  it('drains on the "shutdown" message like on SIGINT: readiness 503, in-flight finishes, exit 0', async () => {
    const app = await startApp({ pm2Env: true, env: { LISTEN_BOTH: '1', GRACEFUL_READINESS_DELAY: '500' } })
    await app.message((message) => message === 'ready', "the 'ready' message")
    const held = app.message((message) => (message as { type?: string }).type === 'held', 'the slow request to arrive')
    const slow = sendRequest(app.port, '/slow')
    await held
    app.send('shutdown')
    // IPC is ordered: once 'pong' is back, the child has handled 'shutdown'.
    await app.ping()
    expect((await sendRequest(app.port, '/readyz')).status).toBe(503)
    expect(await slow).toMatchObject({ status: 200, body: 'slow', headers: { connection: 'close' } })
    expect(await within(app.started.exited, 5000, 'exit')).toEqual({ code: 0, signal: null })
    expect(app.messages).toContainEqual(expect.objectContaining({ type: 'closed', outcome: 'clean' }))
  })

  it('drains on SIGINT, the signal PM2 sends by default', async () => {
    const app = await startApp({ pm2Env: true, env: { LISTEN_BOTH: '1' } })
    const held = app.message((message) => (message as { type?: string }).type === 'held', 'the slow request to arrive')
    const slow = sendRequest(app.port, '/slow')
    await held
    app.started.child.kill('SIGINT')
    expect(await slow).toMatchObject({ status: 200, body: 'slow', headers: { connection: 'close' } })
    expect(await within(app.started.exited, 5000, 'exit')).toEqual({ code: 0, signal: null })
    expect(app.messages).toContainEqual(expect.objectContaining({ type: 'closed', trigger: 'SIGINT', outcome: 'clean' }))
  })

  it('pm2: false ignores PM2 even under PM2: no "ready", "shutdown" does nothing', async () => {
    const app = await startApp({ pm2Env: true, option: false, env: { LISTEN_BOTH: '1' } })
    expect((await sendRequest(app.port, '/readyz')).status).toBe(200)
    app.send('shutdown')
    await app.ping()
    expect(app.messages).not.toContain('ready')
    expect((await sendRequest(app.port, '/readyz')).status).toBe(200)
    expect(app.started.alive()).toBe(true)
  })

  it('auto, outside PM2: no "ready", "shutdown" does nothing', async () => {
    const app = await startApp({ pm2Env: false, env: { LISTEN_BOTH: '1' } })
    expect((await sendRequest(app.port, '/readyz')).status).toBe(200)
    app.send('shutdown')
    await app.ping()
    expect(app.messages).not.toContain('ready')
    expect((await sendRequest(app.port, '/readyz')).status).toBe(200)
  })

  it('pm2: true without an IPC channel (process.send undefined) still serves and drains', async () => {
    const app = await startApp({ pm2Env: true, option: true, ipc: false, env: { LISTEN_BOTH: '1' } })
    expect((await sendRequest(app.port, '/readyz')).status).toBe(200)
    app.started.child.kill('SIGINT')
    expect(await within(app.started.exited, 5000, 'exit')).toEqual({ code: 0, signal: null })
  })
})

describe('deploy/pm2/ecosystem.config.cjs', () => {
  interface App { env: Record<string, string>, wait_ready?: boolean, listen_timeout?: number, kill_timeout?: number, shutdown_with_message?: boolean }
  const { apps } = createRequire(import.meta.url)('../../deploy/pm2/ecosystem.config.cjs') as { apps: App[] }
  const app = apps[0]
  const options = resolveOptions(optionsFromEnvironment(app?.env))

  it('lets graceful finish: kill_timeout (SIGKILL after SIGINT) exceeds the whole budget', () => {
    expect(app?.kill_timeout).toBeGreaterThanOrEqual(options.timeout + 1000)
  })

  it("waits for graceful's 'ready' during a reload, for longer than PM2's 3 s default", () => {
    expect(app?.wait_ready).toBe(true)
    expect(app?.listen_timeout).toBeGreaterThanOrEqual(3000)
  })

  it('stops with a message or SIGINT, both of which graceful handles', () => {
    expect(typeof (app?.shutdown_with_message ?? false)).toBe('boolean')
  })
})
