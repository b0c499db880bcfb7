import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { within } from '@graceful/test-kit'
import { instanceEnv, startInstance, type Example, type InstanceEnv } from './examples.js'
import { startHaproxy, type Backend } from './haproxy.js'
import { startLoad, type Load, type LoadReport } from './load.js'
import type { Exit, Processes, Started } from '@graceful/test-kit/processes'

/** One copy of the app behind the load balancer; `checkPort` when its health check is on another port (gRPC). */
export interface RollingInstance { process: Started, port: number, checkPort?: number }

/** The load balancer in front, as a rolling restart drives it. */
export interface Balancer {
  /** Its frontend: a Unix socket, so no port has to be guessed. */
  socketPath: string
  /** Puts a fresh instance in the slot `name`; resolves once the balancer will send it traffic. */
  replace: (name: string, instance: RollingInstance) => Promise<void>
  /** Its log lines for abnormal requests, for the report. */
  errors: () => string[]
}

/** Starts the balancer in `dir` in front of `backends`; resolves once it routes to all of them. */
export type StartBalancer = (dir: string, backends: readonly Backend[]) => Promise<Balancer>

/** HAProxy with active checks on `/readyz` (./haproxy.ts); a new instance moves in through its runtime API. */
export function haproxyBalancer (binary: string, processes: Processes): StartBalancer {
  return async (dir, backends) => {
    const lb = await startHaproxy(binary, dir, backends, processes)
    await lb.waitFor(backends.map((backend) => backend.name), 'UP')
    return {
      socketPath: lb.socketPath,
      replace: async (name, fresh) => {
        await lb.setServer(name, fresh.port, fresh.checkPort)
        await lb.waitFor([name], 'UP')
      },
      errors: lb.errors,
    }
  }
}

/** How a rolling restart runs, whatever the protocol and the balancer. */
export interface RollingSettings {
  graceful: boolean
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
  /** Starts a copy on a free port, or on `port` when the plan restarts in place. */
  start: (env: InstanceEnv, port?: number) => Promise<RollingInstance>
  /** Starts the client load on the balancer's frontend socket. */
  startLoad: (socketPath: string) => Load
  balancer: StartBalancer
  /**
   * Each replacement listens on its predecessor's port (the balancer's upstreams are fixed
   * addresses, as in nginx's `upstream` block); otherwise on a new one.
   * @default false
   */
  inPlace?: boolean
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
  /** The balancer's log lines for abnormal requests. */
  haproxyErrors: string[]
  ms: number
}

/**
 * A rolling restart: `instances` copies behind the balancer, the client load the
 * whole time; each instance in turn gets SIGTERM, exits, is replaced by a new
 * one (with HAProxy: new ports, moved in through its runtime API), and the next
 * one is stopped only once the balancer sends the new one traffic again.
 */
export async function rollingRestart (plan: RollingPlan): Promise<RollingReport> {
  const began = Date.now()
  const env = instanceEnv(plan.graceful, plan.timeoutMs, plan.readinessDelay ?? plan.readinessDelayMs)
  // Short: a Unix socket path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'graceful-e2e-'))
  try {
    const instances = await Promise.all(Array.from({ length: plan.instances }, () => plan.start(env)))
    const started = instances.map((instance) => instance.process)
    const names = instances.map((_, index) => `s${index + 1}`)
    const backends = instances.map((instance, index) => ({ name: names[index] ?? '', port: instance.port, checkPort: instance.checkPort }))
    const lb = await plan.balancer(dir, backends)

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
        const fresh = await plan.start(env, plan.inPlace === true ? old.port : undefined)
        instances[index] = fresh
        started.push(fresh.process)
        await lb.replace(name, fresh)
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

/** One row of the table a rolling-restart test prints after its runs. */
export function reportRow (report: RollingReport): Record<string, string | number> {
  return {
    requests: report.load.requests,
    'during restarts': report.duringRestart,
    failed: report.load.failed,
    failures: JSON.stringify(report.load.failures),
    exits: report.exits.map((exit) => exit.signal ?? exit.code).join(' '),
    'SIGTERM→exit ms': report.stops.join(' '),
    seconds: (report.ms / 1000).toFixed(1),
  }
}

export interface HttpRollingOptions extends RollingSettings, Pick<RollingPlan, 'balancer' | 'inPlace'> {
  example: Example
  load: { fast: number, pauseMs: number, slow: number, slowMs: number, posts?: number }
}

/** {@link rollingRestart} of an example app under keep-alive HTTP load. */
export function httpRollingRestart (options: HttpRollingOptions): Promise<RollingReport> {
  return rollingRestart({
    ...options,
    app: options.example.name,
    start: (env, port) => startInstance(options.example, env, options.processes, port),
    startLoad: (socketPath) => startLoad({ target: { socketPath }, ...options.load }),
  })
}
