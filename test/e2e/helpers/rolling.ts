import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { within } from '@graceful/test-kit'
import { startInstance, type Example, type Instance, type InstanceEnv } from './examples.js'
import { startHaproxy } from './haproxy.js'
import { startLoad, type LoadReport } from './load.js'
import type { Exit, Processes } from '@graceful/test-kit/processes'

export interface RollingOptions {
  example: Example
  graceful: boolean
  haproxy: string
  processes: Processes
  instances: number
  /** The app's `GRACEFUL_TIMEOUT` and `GRACEFUL_READINESS_DELAY`. */
  timeoutMs: number
  readinessDelayMs: number
  load: { fast: number, pauseMs: number, slow: number, slowMs: number }
}

export interface RollingReport {
  load: LoadReport
  /** Requests finished between the first SIGTERM and the last replacement being UP. */
  duringRestart: number
  /** How each replaced instance ended. */
  exits: Exit[]
  /** HAProxy's log lines for abnormal requests. */
  haproxyErrors: string[]
  ms: number
}

/**
 * A rolling restart: `instances` copies behind HAProxy, keep-alive
 * load the whole time; each instance in turn gets SIGTERM, exits, is replaced
 * by a new one (new port, moved in through HAProxy's runtime API), and the
 * next one is stopped only once HAProxy's check says the new one is up.
 */
export async function rollingRestart (options: RollingOptions): Promise<RollingReport> {
  const began = Date.now()
  const { example, processes } = options
  const env: InstanceEnv = {
    GRACEFUL: options.graceful ? '1' : '0',
    GRACEFUL_TIMEOUT: String(options.timeoutMs),
    GRACEFUL_READINESS_DELAY: String(options.readinessDelayMs),
  }
  // Short: a Unix socket path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'graceful-e2e-'))
  try {
    const instances: Instance[] = await Promise.all(Array.from({ length: options.instances }, () => startInstance(example, env, processes)))
    const names = instances.map((_, index) => `s${index + 1}`)
    const lb = await startHaproxy(options.haproxy, dir, instances.map((instance, index) => ({ name: names[index] ?? '', port: instance.port })), processes)
    await lb.waitFor(names, 'UP')

    const load = startLoad({ target: { socketPath: lb.socketPath }, ...options.load })
    const exits: Exit[] = []
    let report: LoadReport
    let duringRestart = 0
    try {
      await load.more(100)
      const before = load.done
      for (const [index, name] of names.entries()) {
        const old = instances[index]
        if (!old) throw new Error(`no instance ${name}`)
        old.process.child.kill('SIGTERM')
        const exit = await within(old.process.exited, options.timeoutMs + 2000, `${example.name} ${name} to exit after SIGTERM`)
        exits.push(exit)
        const fresh = await startInstance(example, env, processes)
        instances[index] = fresh
        await lb.setServer(name, fresh.port)
        await lb.waitFor([name], 'UP')
      }
      duringRestart = load.done - before
      // A little traffic on the new generation before stopping.
      await load.more(100)
    } finally {
      report = await load.stop()
    }
    return { load: report, duringRestart, exits, haproxyErrors: lb.errors(), ms: Date.now() - began }
  } finally {
    await processes.killAll()
    await rm(dir, { recursive: true, force: true })
  }
}
