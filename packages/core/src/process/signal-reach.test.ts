import { afterEach, describe, expect, it, vi } from 'vitest'
import { signalBlocker, warnIfSignalsMayNotArrive, type ProcessFacts } from './signal-reach.js'

const facts = (overrides: Partial<ProcessFacts> & { init?: string[] }): ProcessFacts => ({
  env: {},
  pid: 4242,
  ppid: 4000,
  initCommand: () => overrides.init,
  ...overrides,
})

describe('can SIGTERM reach this process?', () => {
  it.each([
    { name: '`npm start` as PID 1, node its child', f: facts({ env: { npm_lifecycle_event: 'start' }, ppid: 1, init: ['node', '/usr/local/bin/npm', 'start'] }), warns: /"start" script of npm, which is PID 1/ },
    { name: '`npm start` as PID 1, as Linux shows it (npm set its process title)', f: facts({ env: { npm_lifecycle_event: 'start' }, ppid: 1, init: ['npm start'] }), warns: /"start" script of npm, which is PID 1/ },
    { name: '`npm run serve` as PID 1 through `sh -c`, its title', f: facts({ env: { npm_lifecycle_event: 'serve' }, init: ['npm run serve'] }), warns: /"serve" script of npm/ },
    { name: '`pnpm start` as PID 1 through `sh -c`', f: facts({ env: { npm_lifecycle_event: 'start' }, init: ['node', '/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs', 'start'] }), warns: /"start" script of pnpm/ },
    { name: '`yarn start` as PID 1', f: facts({ env: { npm_lifecycle_event: 'start' }, ppid: 1, init: ['/usr/local/bin/yarn', 'start'] }), warns: /of yarn/ },
    { name: 'a shell-form CMD: `sh -c "node server.js"` as PID 1', f: facts({ ppid: 1, init: ['/bin/sh', '-c', 'node server.js'] }), warns: /shell \(sh -c\)/ },
    { name: 'npm_lifecycle_event set, PID 1 unreadable, parent is PID 1', f: facts({ env: { npm_lifecycle_event: 'start' }, ppid: 1 }), warns: /package manager that is PID 1/ },
  ])('warns: $name', ({ f, warns }) => {
    expect(signalBlocker(f)).toMatch(warns)
  })

  it.each([
    { name: 'node is PID 1', f: facts({ pid: 1, ppid: 0, env: { npm_lifecycle_event: 'start' }, init: ['node', 'server.js'] }) },
    { name: 'tini is PID 1 and execs node', f: facts({ ppid: 1, init: ['/usr/bin/tini', '--', 'node', 'dist/server.js'] }) },
    { name: '`npm run dev` on a laptop (PID 1 is systemd)', f: facts({ env: { npm_lifecycle_event: 'dev' }, init: ['/sbin/init', 'splash'] }) },
    { name: 'a process title that is not a package manager\'s', f: facts({ env: { npm_lifecycle_event: 'start' }, init: ['my-supervisor start'] }) },
    { name: 'a service under systemd', f: facts({ ppid: 1, init: ['/lib/systemd/systemd', '--system'] }) },
    { name: 'not Linux: nothing to read, parent not PID 1', f: facts({ env: { npm_lifecycle_event: 'start' } }) },
  ])('stays quiet: $name', ({ f }) => {
    expect(signalBlocker(f)).toBeNull()
  })
})

describe('the startup warning', () => {
  const key = Symbol.for('graceful.signal-reach.warned.v1')
  const slot = globalThis as unknown as Record<symbol, boolean | undefined>
  afterEach(() => { slot[key] = true })

  it('is logged once per process, however many instances start', () => {
    slot[key] = undefined
    const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const npm = facts({ env: { npm_lifecycle_event: 'start' }, ppid: 1, init: ['npm', 'start'] })
    warnIfSignalsMayNotArrive(log, npm)
    warnIfSignalsMayNotArrive(log, npm)
    expect(log.warn).toHaveBeenCalledTimes(1)
    expect(log.warn.mock.calls[0]?.[0]).toMatchObject({ code: 'GRACEFUL_SIGNALS_MAY_NOT_ARRIVE' })
    expect(log.warn.mock.calls[0]?.[1]).toContain('CMD ["node", "dist/server.js"]')
  })

  it('never throws, even when reading PID 1 does', () => {
    slot[key] = undefined
    const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    expect(() => warnIfSignalsMayNotArrive(log, facts({ ppid: 1, initCommand: () => { throw new Error('EACCES') } }))).not.toThrow()
    expect(log.warn).not.toHaveBeenCalled()
  })
})
