import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { within } from '@graceful/test-kit'
import { instanceEnv, startInstance, type Example, type InstanceEnv } from './examples.js'
import { startHaproxy } from './haproxy.js'
import { startLoad, type Load, type LoadReport } from './load.js'
import type { Exit, Processes, Started } from '@graceful/test-kit/processes'

/** One copy of the app behind the load balancer; `checkPort` when its health check is on another port (gRPC). */
export interface RollingInstance { process: Started, port: number, checkPort?: number }

/** How a rolling restart runs, whatever the protocol. */
export interface RollingSettings {
  graceful: boolean
  haproxy: string
  processes: Processes
  instances: number
  /** The app's `GRACEFUL_TIMEOUT` (an instance gets it + 2 s to exit after SIGTERM) and `GRACEFUL_READINESS_DELAY`. */
  timeoutMs: number
  readinessDelayMs: number
  /** A quiet period in `GRACEFUL_READINESS_DELAY`'s form (`quiet=…,min=…,max=…`), in place of `readinessDelayMs`. */
  readinessDelay?: string
}

/** What a rolling restart needs to know of the app: how to start a copy, and its client load. */
export interface RollingPlan extends RollingSettings {
  /** Names the app in error messages. */
  app: string
  start: (env: InstanceEnv) => Promise<RollingInstance>
  /** Starts the client load on HAProxy's frontend socket. */
  startLoad: (socketPath: string) => Load
}

export interface RollingReport {
  load: LoadReport
  /** Requests finished between the first SIGTERM and the last replacement being UP. */
  duringRestart: number
  /** How each replaced instance ended. */
  exits: Exit[]
  /** Milliseconds from each SIGTERM to that instance's exit: the readiness delay and the drain. */
  stops: number[]
  /** Every instance started, the first generation included (their output). */
  started: Started[]
  /** HAProxy's log lines for abnormal requests. */
  haproxyErrors: string[]
  ms: number
}

/**
 * A rolling restart: `instances` copies behind HAProxy, the client load the
 * whole time; each instance in turn gets SIGTERM, exits, is replaced by a new
 * one (new ports, moved in through HAProxy's runtime API), and the next one is
 * stopped only once HAProxy's check says the new one is up.
 */
export async function rollingRestart (plan: RollingPlan): Promise<RollingReport> {
  const began = Date.now()
  const env = instanceEnv(plan.graceful, plan.timeoutMs, plan.readinessDelay ?? plan.readinessDelayMs)
  const start = () => plan.start(env)
  // Short: a Unix socket path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'graceful-e2e-'))
  try {
    const instances = await Promise.all(Array.from({ length: plan.instances }, start))
    const started = instances.map((instance) => instance.process)
    const names = instances.map((_, index) => `s${index + 1}`)
    const backends = instances.map((instance, index) => ({ name: names[index] ?? '', port: instance.port, checkPort: instance.checkPort }))
    const lb = await startHaproxy(plan.haproxy, dir, backends, plan.processes)
    await lb.waitFor(names, 'UP')

    const load = plan.startLoad(lb.socketPath)
    const exits: Exit[] = []
    const stops: number[] = []
    let report: LoadReport
    let duringRestart = 0
    try {
      await load.more(100)
      const before = load.done
      for (const [index, name] of names.entries()) {
        const old = instances[index]
        if (!old) throw new Error(`no instance ${name}`)
        const signalled = Date.now()
        old.process.child.kill('SIGTERM')
        exits.push(await within(old.process.exited, plan.timeoutMs + 2000, `${plan.app} ${name} to exit after SIGTERM`))
        stops.push(Date.now() - signalled)
        const fresh = await start()
        instances[index] = fresh
        started.push(fresh.process)
        await lb.setServer(name, fresh.port, fresh.checkPort)
        await lb.waitFor([name], 'UP')
      }
      duringRestart = load.done - before
      // A little traffic on the new generation before stopping.
      await load.more(100)
    } finally {
      report = await load.stop()
    }
    return { load: report, duringRestart, exits, stops, started, haproxyErrors: lb.errors(), ms: Date.now() - began }
  } finally {
    await plan.processes.killAll()
    await rm(dir, { recursive: true, force: true })
  }
}

export interface HttpRollingOptions extends RollingSettings {
  example: Example
  load: { fast: number, pauseMs: number, slow: number, slowMs: number }
}

/** {@link rollingRestart} of an example app under keep-alive HTTP load. */
export function httpRollingRestart (options: HttpRollingOptions): Promise<RollingReport> {
  return rollingRestart({
    ...options,
    app: options.example.name,
    start: (env) => startInstance(options.example, env, options.processes),
    startLoad: (socketPath) => startLoad({ target: { socketPath }, ...options.load }),
  })
}
