import { fileURLToPath } from 'node:url'
import type { InstanceEnv } from './examples.js'
import { startGrpcLoad } from './grpc-load.js'
import { haproxyBalancer, rollingRestart, type RollingInstance, type RollingReport, type RollingSettings } from './rolling.js'
import type { Processes, Started } from '@graceful/test-kit/processes'

const fixture = fileURLToPath(new URL('../fixtures/grpc-app.ts', import.meta.url))
const testDir = fileURLToPath(new URL('../../', import.meta.url))

/** Starts test/e2e/fixtures/grpc-app.ts on free loopback ports (gRPC, and its HTTP `/readyz` for the checks). */
export async function startGrpcInstance (env: InstanceEnv, processes: Processes): Promise<RollingInstance> {
  const started = processes.spawn('grpc-app', process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', fixture], {
    cwd: testDir,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  })
  const [, port, httpPort] = await started.line(/^listening (\d+) (\d+)$/, 15_000)
  return { process: started, port: Number(port), checkPort: Number(httpPort) }
}

export interface GrpcRollingOptions extends RollingSettings {
  /** The HAProxy binary. */
  haproxy: string
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
 * {@link rollingRestart} for gRPC: copies of the gRPC fixture behind HAProxy
 * (h2 in front, h2 to the servers, checks on each app's `/readyz`) under a
 * grpc-js client load; also counts the calls a server started twice.
 */
export async function grpcRollingRestart (options: GrpcRollingOptions): Promise<GrpcRollingReport> {
  const report = await rollingRestart({
    ...options,
    app: 'grpc-app',
    balancer: haproxyBalancer(options.haproxy, options.processes),
    start: (env) => startGrpcInstance(env, options.processes),
    startLoad: (socketPath) => startGrpcLoad({ target: `unix:${socketPath}`, ...options.load }),
  })
  return { ...report, replayed: replayedCalls(report.started) }
}
