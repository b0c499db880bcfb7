import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { within } from '@graceful/test-kit'
import { startGrpcLoad } from './grpc-load.js'
import { startHaproxy, type Backend } from './haproxy.js'
import type { LoadReport } from './load.js'
import type { Exit, Processes, Started } from '@graceful/test-kit/processes'
import type { RollingReport } from './rolling.js'

const fixture = fileURLToPath(new URL('../fixtures/grpc-app.ts', import.meta.url))
const testDir = fileURLToPath(new URL('../../', import.meta.url))

export interface GrpcInstance { process: Started, port: number, httpPort: number }

/** Starts test/e2e/fixtures/grpc-app.ts on free loopback ports (gRPC and its HTTP `/readyz`). */
export async function startGrpcInstance (env: Record<string, string>, processes: Processes): Promise<GrpcInstance> {
  const started = processes.spawn('grpc-app', process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', fixture], {
    cwd: testDir,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  })
  const [, port, httpPort] = await started.line(/^listening (\d+) (\d+)$/, 15_000)
  return { process: started, port: Number(port), httpPort: Number(httpPort) }
}

export interface GrpcRollingOptions {
  graceful: boolean
  haproxy: string
  processes: Processes
  instances: number
  /** The app's `GRACEFUL_TIMEOUT` and `GRACEFUL_READINESS_DELAY`. */
  timeoutMs: number
  readinessDelayMs: number
  load: { retries: boolean, fast: number, pauseMs: number, slow: number, slowMs: number }
}

export interface GrpcRollingReport extends RollingReport {
  /** Calls the servers started more than once (started on an instance that was killed, replayed on another). */
  replayed: number
}

/** Calls whose `call <text>` line appears more than once across every instance's output. */
export function replayedCalls (instances: readonly Started[]): number {
  const seen = new Map<string, number>()
  for (const instance of instances) {
    for (const line of instance.lines) {
      if (line.startsWith('call ')) seen.set(line, (seen.get(line) ?? 0) + 1)
    }
  }
  return [...seen.values()].filter((count) => count > 1).length
}

/**
 * {@link rollingRestart} for gRPC: `instances` copies of the gRPC fixture behind
 * HAProxy (h2 in front, h2 to the servers, checks on each app's `/readyz`), a
 * grpc-js client load the whole time; each instance in turn gets SIGTERM, exits,
 * is replaced by a new one (new ports, moved in through HAProxy's runtime API),
 * and the next one is stopped only once HAProxy's check says the new one is up.
 */
export async function grpcRollingRestart (options: GrpcRollingOptions): Promise<GrpcRollingReport> {
  const began = Date.now()
  const { processes } = options
  const env = {
    GRACEFUL: options.graceful ? '1' : '0',
    GRACEFUL_TIMEOUT: String(options.timeoutMs),
    GRACEFUL_READINESS_DELAY: String(options.readinessDelayMs),
  }
  // Short: a Unix socket path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'graceful-e2e-'))
  try {
    const instances = await Promise.all(Array.from({ length: options.instances }, () => startGrpcInstance(env, processes)))
    const everyInstance = instances.map((instance) => instance.process)
    const names = instances.map((_, index) => `s${index + 1}`)
    const backends: Backend[] = instances.map((instance, index) => ({ name: names[index] ?? '', port: instance.port, checkPort: instance.httpPort }))
    const lb = await startHaproxy(options.haproxy, dir, backends, processes)
    await lb.waitFor(names, 'UP')

    const load = startGrpcLoad({ target: `unix:${lb.socketPath}`, ...options.load })
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
        const exit = await within(old.process.exited, options.timeoutMs + 2000, `grpc-app ${name} to exit after SIGTERM`)
        exits.push(exit)
        const fresh = await startGrpcInstance(env, processes)
        instances[index] = fresh
        everyInstance.push(fresh.process)
        // The check port first: once the address moves, the next check must ask the new instance.
        const answer = await lb.command(`set server app/${name} check-port ${fresh.httpPort}`)
        if (answer.trim() !== '') throw new Error(`haproxy refused the check port of ${name}: ${answer}`)
        await lb.setServer(name, fresh.port)
        await lb.waitFor([name], 'UP')
      }
      duringRestart = load.done - before
      // A little traffic on the new generation before stopping.
      await load.more(100)
    } finally {
      report = await load.stop()
    }
    return { load: report, duringRestart, exits, replayed: replayedCalls(everyInstance), haproxyErrors: lb.errors(), ms: Date.now() - began }
  } finally {
    await processes.killAll()
    await rm(dir, { recursive: true, force: true })
  }
}
