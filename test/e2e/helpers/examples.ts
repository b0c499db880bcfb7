import type { Example } from '@graceful/test-kit/examples'
import type { Processes, Started } from '@graceful/test-kit/processes'

export { examples, exampleExists, type Example } from '@graceful/test-kit/examples'

export interface Instance { process: Started, port: number }

export interface InstanceEnv {
  GRACEFUL: '0' | '1'
  /** Read by graceful itself (`timeout`, `readinessDelay`). */
  GRACEFUL_TIMEOUT: string
  GRACEFUL_READINESS_DELAY: string
}

/** The environment of an instance: with or without graceful, its timeout and readiness delay (ms, or a quiet period `quiet=…,max=…`). */
export function instanceEnv (graceful: boolean, timeoutMs: number, readinessDelay: number | string): InstanceEnv {
  return { GRACEFUL: graceful ? '1' : '0', GRACEFUL_TIMEOUT: String(timeoutMs), GRACEFUL_READINESS_DELAY: String(readinessDelay) }
}

/**
 * Starts one instance on a free loopback port (or on `port`: a restart in place, behind a
 * balancer whose upstreams are fixed addresses), the way the examples' README runs them.
 */
export async function startInstance (example: Example, env: InstanceEnv, processes: Processes, port = 0): Promise<Instance> {
  const started = processes.spawn(example.name, process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', example.entry], {
    cwd: example.dir,
    env: { ...process.env, NODE_OPTIONS: '', ...env, PORT: String(port), HOST: '127.0.0.1' },
  })
  const [, listening] = await started.line(/^listening (\d+)$/, 15_000)
  return { process: started, port: Number(listening) }
}
