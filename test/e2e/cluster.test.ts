// node:cluster: the primary (examples/node-http/cluster.ts) replaces its
// workers one by one on SIGHUP while keep-alive clients hit the shared port.
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { within } from '@graceful/test-kit'
import { instanceEnv } from './helpers/examples.js'
import { startLoad, type LoadReport } from './helpers/load.js'
import { Processes, type Started } from '@graceful/test-kit/processes'

const exampleDir = fileURLToPath(new URL('../../examples/node-http/', import.meta.url))
const workers = 2
const timeoutMs = 5000
const processes = new Processes()

afterEach(async () => {
  processes.killAdopted()
  await processes.killAll()
})

async function startCluster (graceful: boolean): Promise<{ primary: Started, port: number }> {
  const primary = processes.spawn('cluster primary', process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', 'cluster.ts'], {
    cwd: exampleDir,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      WORKERS: String(workers),
      PORT: '0',
      HOST: '127.0.0.1',
      // No load balancer checks readiness here: the delay is for keep-alive
      // clients, which get `Connection: close` and reconnect to another worker.
      ...instanceEnv(graceful, timeoutMs, 500),
    },
  })
  // Workers are the primary's children: adopt them, so teardown can end them by PID too.
  let seen = 0
  primary.child.stdout?.on('data', () => {
    for (const line of primary.lines.slice(seen)) {
      const match = /^worker (\d+) (listening|exited)/.exec(line)
      if (match?.[2] === 'listening') processes.adopt(Number(match[1]))
      else if (match) processes.release(Number(match[1]))
    }
    seen = primary.lines.length
  })
  const [, port] = await primary.line(/^listening (\d+)$/, 15_000)
  await within(waitForLines(primary, /^worker \d+ listening$/, workers), 15_000, `${workers} workers`)
  return { primary, port: Number(port) }
}

async function waitForLines (started: Started, pattern: RegExp, count: number): Promise<void> {
  while (started.lines.filter((line) => pattern.test(line)).length < count) {
    if (!started.alive()) throw new Error(`${started.name} exited:\n${started.output()}`)
    await new Promise((resolve) => started.child.stdout?.once('data', resolve))
  }
}

/** Keep-alive load on the cluster's port: 100 requests, a SIGHUP rolling restart, 100 more. */
async function loadAcrossRestart (primary: Started, port: number): Promise<LoadReport> {
  const load = startLoad({ target: { port }, fast: 4, pauseMs: 5, slow: 4, slowMs: 300, requestTimeoutMs: 5000 })
  let report: LoadReport
  try {
    await load.more(100)
    primary.child.kill('SIGHUP')
    await primary.line(/^restarted \d+$/, workers * (timeoutMs + 5000))
    await load.more(100)
  } finally {
    report = await load.stop()
  }
  return report
}

describe('node:cluster rolling restart (examples/node-http/cluster.ts)', () => {
  it('with graceful: every request succeeds while each worker drains and is replaced', { timeout: 60_000 }, async () => {
    const { primary, port } = await startCluster(true)
    const report = await loadAcrossRestart(primary, port)
    console.log(`cluster, graceful: ${report.requests} requests, ${report.failed} failed ${JSON.stringify(report.failures)}`)
    expect(report.failures, primary.output()).toEqual({})
    expect(report.requests).toBeGreaterThan(200)
    // Each old worker drained and exited 0 by itself.
    const exits = primary.lines.filter((line) => /^worker \d+ exited/.test(line))
    expect(exits).toHaveLength(workers)
    for (const line of exits) expect(line).toMatch(/ exited 0$/)

    primary.child.kill('SIGTERM')
    expect(await within(primary.exited, timeoutMs + 5000, 'the primary to stop')).toEqual({ code: 0, signal: null })
    expect(primary.lines).toContain('stopped')
  })

  it('bare workers (GRACEFUL=0): the same rolling restart fails requests', { timeout: 60_000 }, async () => {
    const { primary, port } = await startCluster(false)
    const report = await loadAcrossRestart(primary, port)
    console.log(`cluster, bare: ${report.requests} requests, ${report.failed} failed ${JSON.stringify(report.failures)}`)
    expect(report.failed).toBeGreaterThan(0)
  })
})
