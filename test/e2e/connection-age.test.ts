// maxConnectionAge rebalances pooled keep-alive clients after a rolling
// restart: three instances behind a connection-level balancer (kube-proxy's
// way: no request-level pooling); without the option the instance restarted
// last keeps a near-zero share of the requests; with it, shares even out
// within age + jitter. Zero failed requests in both runs.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { within } from '@graceful/test-kit'
import { Processes, type Exit } from '@graceful/test-kit/processes'
import { exampleOf } from '@graceful/test-kit/examples'
import { instanceEnv, startInstance, type Instance } from './helpers/examples.js'
import { startL4 } from './helpers/l4.js'
import { startLoad } from './helpers/load.js'

const example = exampleOf('node:http')
const instances = 3
const ageMs = 1000
// The default jitter (± 10 %).
const jitter = 0.1
const timeoutMs = 4000
// Long enough for in-flight keep-alive requests to get their Connection: close before the listener closes.
const readinessDelayMs = 300
const sampleMs = 500
const processes = new Processes()
const printed: string[] = []

afterEach(async () => { await processes.killAll() })
afterAll(() => { if (printed.length > 0) console.log(printed.join('\n')) })

async function roll (maxConnectionAge: number | null) {
  const env = { ...instanceEnv(true, timeoutMs, readinessDelayMs), ...maxConnectionAge === null ? {} : { GRACEFUL_MAX_CONNECTION_AGE: String(maxConnectionAge) } }
  const start = () => startInstance(example, env as ReturnType<typeof instanceEnv>, processes)
  const lb = await startL4()
  const names = Array.from({ length: instances }, (_, index) => `s${index + 1}`)
  const running = new Map<string, Instance>()
  // The replacements start with the first generation (kept out of the pool until their turn): the roll is then quick.
  const started = await Promise.all([...names, ...names].map(start))
  for (const [index, name] of names.entries()) running.set(name, started[index]!)
  const replacements = started.slice(instances)
  const publish = () => { lb.setPool(new Map([...running].map(([name, instance]) => [name, instance.port]))) }
  publish()
  // Pooled keep-alive clients: 12 connections, each request on whichever is free.
  const load = startLoad({ target: { port: lb.port }, fast: 12, pauseMs: 5, slow: 0, slowMs: 0 })
  const timeline: string[] = []
  const began = Date.now()
  let restarting = ''
  const exits: Exit[] = []
  const sampler = setInterval(() => {
    const counts = lb.take()
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    timeline.push(`${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s ${names.map((name) => `${name} ${total === 0 ? '  -' : `${Math.round(100 * (counts.get(name) ?? 0) / total)}`.padStart(3)} %`).join('  ')}${restarting}`)
    restarting = ''
  }, sampleMs)
  try {
    await load.more(300)
    for (const [index, name] of names.entries()) {
      const old = running.get(name)!
      running.delete(name)
      publish()
      old.process.child.kill('SIGTERM')
      exits.push(await within(old.process.exited, timeoutMs + 2000, `${name} to exit`))
      running.set(name, replacements[index]!)
      publish()
      restarting = `  (${name} restarted)`
    }
    // The instance restarted last starts with no connection: watch for age + jitter, then measure.
    await new Promise((resolve) => setTimeout(resolve, ageMs * (1 + jitter) + 200))
    lb.take()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const counts = lb.take()
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    const shares = names.map((name) => (counts.get(name) ?? 0) / total)
    return { report: await load.stop(), shares, timeline, exits, last: names[names.length - 1]! }
  } finally {
    clearInterval(sampler)
    await load.stop().catch(() => {})
    await lb.close()
  }
}

describe('maxConnectionAge after a rolling restart (3 instances, connection-level balancing)', () => {
  it('without it, the instance restarted last keeps a near-zero share; with it, shares even out; no request fails', { timeout: 90_000 }, async () => {
    const without = await roll(null)
    const withAge = await roll(ageMs)
    const show = (label: string, run: typeof without) => [
      `${label}: ${run.report.requests} requests, ${run.report.failed} failed; shares after the roll: ${run.shares.map((share) => `${Math.round(share * 100)} %`).join(', ')}`,
      ...run.timeline.map((line) => `  ${line}`),
    ]
    printed.push(...show('without maxConnectionAge', without), ...show(`maxConnectionAge ${ageMs} ms ± ${jitter * 100} %`, withAge))
    for (const run of [without, withAge]) {
      expect(run.report.failures).toEqual({})
      // Every replaced instance drained and exited by itself.
      expect(run.exits).toEqual(Array.from({ length: instances }, () => ({ code: 0, signal: null })))
    }
    expect(without.shares[instances - 1]).toBeLessThan(0.05)
    for (const share of withAge.shares) expect(share).toBeGreaterThan(0.15)
  })
})
