import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * An example app (examples/*): the same routes and the same environment contract
 * (examples/README.md) for every framework. The end-to-end tests and the bench start these.
 */
export interface Example {
  /** `node:http`, `fastify`, `express`, `koa`, `nestjs`: the framework it runs on (tests may name their own apps). */
  name: string
  /** The example's folder: its own dependencies resolve from there. */
  dir: string
  /** The entry, relative to `dir`. */
  entry: string
  /** `dir/entry`, absolute. */
  file: string
}

export type ExampleName = 'node:http' | 'fastify' | 'express' | 'koa' | 'nestjs'

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))
const example = (name: ExampleName, folder: string): Example =>
  ({ name, dir: `${examplesDir}${folder}`, entry: 'server.ts', file: `${examplesDir}${folder}/server.ts` })

/** Every example app, in the order reports list them. */
export const examples: readonly Example[] = [
  example('node:http', 'node-http'),
  example('fastify', 'fastify'),
  example('express', 'express'),
  example('koa', 'koa'),
  example('nestjs', 'nestjs'),
]

/** The example of `name`. */
export function exampleOf (name: ExampleName): Example {
  const found = examples.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`no example named ${name}`)
  return found
}

/** Whether the example's entry file exists (a checkout may lack one). */
export function exampleExists (example: Example): boolean {
  return existsSync(example.file)
}
