import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createGraceful, type ShutdownSummary } from '@graceful/core'
import { deferred, type Deferred, within } from '@graceful/test-kit'

// A property-based test of the lifecycle. Random interleavings of requests starting and
// finishing, shutdown(), force(), signals (emitted to graceful's own listener: SIGUSR2, never a real
// signal to the test worker), hook outcomes and time, on a real server with real sockets and a small
// budget. Invariants: one summary; done within the budget; no accepted request reset unless forced;
// completed + rejected + cut adds up; every hook appears once in summary.hooks.
const timeout = 400
const releaseTimeout = 150
const margin = 600

type Command =
  | { kind: 'start' }
  | { kind: 'finish', pick: number }
  | { kind: 'shutdown' }
  | { kind: 'force' }
  | { kind: 'signal' }
  | { kind: 'wait', ms: number }

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'start' } as const) },
  { weight: 3, arbitrary: fc.nat(20).map((pick) => ({ kind: 'finish', pick }) as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'shutdown' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'force' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'signal' } as const) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 60 }).map((ms) => ({ kind: 'wait', ms }) as const) },
)
const releaseOutcome = fc.constantFrom('ok', 'throw', 'reject', 'hang')
const notifyOutcome = fc.constantFrom('ok', 'throw', 'hang')

interface Held { id: number, gate: Deferred, outcome: Promise<number | string>, finishedBeforeTrigger: boolean }

async function scenario (commands: Command[], releases: string[], notifies: string[]): Promise<void> {
  const g = createGraceful({ timeout, releaseTimeout, signals: ['SIGUSR2'], exit: false, logger: false, health: false })
  const gates = new Map<number, Deferred>()
  const seen = new Map<number, Deferred>()
  const server = http.createServer(g.handler((req, res) => {
    const id = Number(req.url?.slice(1))
    const gate = gates.get(id)
    seen.get(id)?.resolve()
    if (!gate) return void res.writeHead(404).end()
    void gate.promise.then(() => { if (!res.headersSent) res.end('ok') })
  }))
  g.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port

  const hookNames: string[] = []
  for (const [index, outcome] of releases.entries()) {
    const name = `release-${index}-${outcome}`
    hookNames.push(name)
    g.onClose(() => {
      if (outcome === 'throw') throw new Error(name)
      if (outcome === 'reject') return Promise.reject(new Error(name))
      if (outcome === 'hang') return new Promise(() => {})
      return undefined
    }, { name })
  }
  for (const [index, outcome] of notifies.entries()) {
    const name = `notify-${index}-${outcome}`
    hookNames.push(name)
    g.onDraining(() => {
      if (outcome === 'throw') throw new Error(name)
      if (outcome === 'hang') return new Promise(() => {})
      return undefined
    }, { name })
  }

  const summaries: Promise<ShutdownSummary>[] = []
  let closedEvents = 0
  g.on('closed', () => { closedEvents++ })
  let triggeredAt = 0
  const trigger = () => { triggeredAt ||= Date.now() }
  const held: Held[] = []
  let nextId = 0
  let forceCalled = false
  let signals = 0

  try {
    for (const step of commands) {
      if (step.kind === 'start') {
        // New requests only while accepting: what a closing listener does to a connection
        // racing it is the conformance suite's business, not this property's.
        if (g.state !== 'accepting') continue
        const id = nextId++
        const gate = deferred()
        const arrived = deferred()
        gates.set(id, gate)
        seen.set(id, arrived)
        const outcome = new Promise<number | string>((resolve) => {
          http.get({ host: '127.0.0.1', port, path: `/${id}`, agent: false }, (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
            res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
          }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
        })
        await within(Promise.race([arrived.promise, outcome]), 5000, `request ${id} to arrive`)
        held.push({ id, gate, outcome, finishedBeforeTrigger: false })
      } else if (step.kind === 'finish') {
        const open = held.filter((request) => !request.finishedBeforeTrigger)
        const request = open[step.pick % Math.max(1, open.length)]
        if (!request) continue
        request.gate.resolve()
        if (triggeredAt === 0) {
          // Finished before any trigger: wait for the whole response, so the accounting is exact.
          await within(request.outcome, 5000, 'the response')
          request.finishedBeforeTrigger = true
        }
      } else if (step.kind === 'shutdown') {
        trigger()
        summaries.push(g.shutdown())
      } else if (step.kind === 'force') {
        trigger()
        forceCalled = true
        summaries.push(g.force('property'))
      } else if (step.kind === 'signal') {
        trigger()
        signals++
        process.emit('SIGUSR2')
      } else {
        await new Promise((resolve) => setTimeout(resolve, step.ms))
      }
    }
    trigger()
    summaries.push(g.shutdown())
    const summary = await within(summaries[0]!, timeout + margin * 3, 'the summary')
    const elapsed = Date.now() - triggeredAt

    // One summary, one 'closed' event.
    for (const other of await Promise.all(summaries)) expect(other).toBe(summary)
    expect(closedEvents).toBe(1)
    // Within the budget.
    expect(summary.durations.total).toBeLessThanOrEqual(timeout + margin)
    expect(elapsed).toBeLessThanOrEqual(timeout + margin)
    // Only force() or a second delivered signal forces.
    if (summary.outcome === 'forced') expect(forceCalled || signals >= 2).toBe(true)
    // Every hook once.
    expect(summary.hooks.map((hook) => hook.name).sort()).toEqual([...hookNames].sort())

    // Requests in flight at the trigger: each got a real answer unless the shutdown was forced.
    for (const request of held) request.gate.resolve()
    const inFlight = held.filter((request) => !request.finishedBeforeTrigger)
    const outcomes = await within(Promise.all(inFlight.map((request) => request.outcome)), 5000, 'every client')
    const { completed, rejected, cut } = summary.requests
    if (summary.outcome === 'forced') {
      expect(completed + rejected + cut).toBeLessThanOrEqual(inFlight.length)
    } else {
      for (const outcome of outcomes) expect([200, 503]).toContain(outcome)
      expect(completed + rejected + cut).toBe(inFlight.length)
      expect(completed).toBe(outcomes.filter((outcome) => outcome === 200).length)
      expect(summary.cut.every((request) => request.action === 'rejected')).toBe(true)
    }
  } finally {
    for (const gate of gates.values()) gate.resolve()
    server.closeAllConnections()
    await g.force('teardown')
    if (server.listening) await new Promise((resolve) => server.close(resolve))
  }
}

describe('faults: lifecycle properties (fast-check)', () => {
  it('hold under random interleavings of requests, shutdown, force, signals, hook outcomes and time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 10 }),
        fc.array(releaseOutcome, { maxLength: 3 }),
        fc.array(notifyOutcome, { maxLength: 2 }),
        scenario,
      ),
      { numRuns: 30, endOnFailure: true },
    )
  }, 120_000)
})
