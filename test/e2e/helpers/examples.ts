import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Processes, Started } from './processes.js'

/** An example app (see examples/*): same routes and environment contract for every framework. */
export interface Example {
  name: string
  /** The example's folder: its own dependencies resolve from there. */
  dir: string
  entry: string
}

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))

export const examples: readonly Example[] = [
  { name: 'node:http', dir: `${examplesDir}node-http`, entry: 'server.ts' },
  { name: 'fastify', dir: `${examplesDir}fastify`, entry: 'server.ts' },
  { name: 'express', dir: `${examplesDir}express`, entry: 'server.ts' },
  { name: 'koa', dir: `${examplesDir}koa`, entry: 'server.ts' },
]

export function exampleExists (example: Example): boolean {
  return existsSync(`${example.dir}/${example.entry}`)
}

export interface Instance { process: Started, port: number }

export interface InstanceEnv {
  GRACEFUL: '0' | '1'
  /** Read by graceful itself (`timeout`, `readinessDelay`). */
  GRACEFUL_TIMEOUT: string
  GRACEFUL_READINESS_DELAY: string
}

/** Starts one instance on a free loopback port, the way the examples' README runs them. */
export async function startInstance (example: Example, env: InstanceEnv, processes: Processes): Promise<Instance> {
  const started = processes.spawn(example.name, process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', example.entry], {
    cwd: example.dir,
    env: { ...process.env, NODE_OPTIONS: '', ...env, PORT: '0', HOST: '127.0.0.1' },
  })
  const [, port] = await started.line(/^listening (\d+)$/, 15_000)
  return { process: started, port: Number(port) }
}
