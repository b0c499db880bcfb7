import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Logger } from '@graceful/core'
import { startApp } from '../helpers/app.js'
import { openConnection, patience, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'

// Observers (event listeners, logger methods, onCut) cannot break the drain.
const events = ['draining', 'drain', 'drained', 'timeout', 'hookError', 'closed'] as const

const throwingLogger: Logger = {
  debug: () => { throw new Error('debug broke') },
  info: () => { throw new Error('info broke') },
  warn: () => { throw new Error('warn broke') },
  error: () => { throw new Error('error broke') },
}

let warnings: string[] = []
const onWarning = (warning: Error & { code?: string }) => {
  if (warning.code === 'GRACEFUL_OBSERVER_FAILED') warnings.push(warning.message.split(' threw')[0] ?? '')
}
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => { process.off('warning', onWarning) })

describe.each(targets)('faults: observers — $name', (target) => {
  it('listeners and a logger that throw change nothing: request served, hooks run, exit code 0, each reported once', async () => {
    await using h = await startApp(target, { timeout: 5000, logger: throwingLogger })
    const g = h.app.graceful
    for (const event of events) {
      g.on(event, () => { throw new Error(`${event} listener broke`) })
      g.on(event, () => { throw new Error(`${event} listener broke again`) })
    }
    // A listener returning a rejected promise is the same bug as one that throws.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    g.on('drain', async () => { throw new Error('async drain listener broke') })
    const ran: string[] = []
    let lastListenerRan = false
    g.on('closed', () => { lastListenerRan = true })
    g.onDraining(() => { ran.push('notify') }, { name: 'notify' })
    g.onClose(() => { ran.push('first') }, { name: 'first' })
    g.onClose(() => { ran.push('second') }, { name: 'second' })
    await using conn = await openConnection(h.app.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const closing = h.app.close()
    await vi.waitFor(() => expect(g.state, 'draining').toBe('draining'), patience)
    h.slow.resolve()
    expect((await held).status).toBe(200)
    await within(closing, 5000, 'the framework close')
    const summary = await g.shutdown()
    expect(g.state).toBe('closed')
    expect(summary.outcome).toBe('clean')
    expect(summary.exitCode).toBe(0)
    expect(ran).toEqual(['notify', 'second', 'first'])
    expect(lastListenerRan).toBe(true)
    await vi.waitFor(() => expect(warnings, 'the closed listener warning').toContain('graceful: "closed" listener'), patience)
    expect(warnings).toContain('graceful: "draining" listener')
    expect(warnings).toContain('graceful: logger.info()')
    // Once per observer, however often it failed.
    expect(new Set(warnings).size).toBe(warnings.length)
  })

  it('at a cut deadline, throwing timeout/hookError/closed listeners and onCut leave exit code 124 and every hook run', async () => {
    await using h = await startApp(target, {
      timeout: 800,
      releaseTimeout: 300,
      onCut: () => { throw new Error('onCut broke') },
    })
    const g = h.app.graceful
    for (const event of events) g.on(event, () => { throw new Error(`${event} listener broke`) })
    const ran: string[] = []
    g.onClose(() => { ran.push('after') }, { name: 'after' })
    g.onClose(() => { throw new Error('cleanup failed') }, { name: 'failing' })
    await using conn = await openConnection(h.app.port)
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(g.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = await within(g.shutdown(), 5000, 'the summary')
    expect((await held).status).toBe(503)
    expect(summary.outcome).toBe('cut')
    expect(summary.exitCode).toBe(124)
    expect(ran).toEqual(['after'])
    expect(summary.hooks.find((hook) => hook.name === 'failing')?.status).toBe('error')
    await vi.waitFor(() => expect(warnings, 'the onCut warning').toContain('graceful: onCut'), patience)
    expect(warnings).toEqual(expect.arrayContaining(['graceful: "timeout" listener', 'graceful: "hookError" listener']))
  })
})
