import { existsSync } from 'node:fs'
import { fromRoot, type ServerSpec } from './children.js'

const bare = { GRACEFUL: '0' }
const example = (framework: string) => fromRoot('examples', framework, 'server.ts')
const server = (name: string) => fromRoot('bench', 'servers', `${name}.ts`)

/** The frameworks the demo and the bench drive through their example apps. */
export const frameworks = ['fastify', 'express', 'koa', 'nestjs'] as const
export type Framework = typeof frameworks[number]

/** The example app of a framework, with the plugin or bare (`GRACEFUL=0`). */
export function exampleSpec (framework: Framework, withPlugin: boolean): ServerSpec {
  return withPlugin
    ? { name: `${framework} + graceful`, file: example(framework) }
    : { name: `${framework} (bare)`, file: example(framework), env: bare }
}

/** Frameworks whose example app exists yet (other work may still be landing). */
export function availableFrameworks (): Framework[] {
  return frameworks.filter((framework) => existsSync(example(framework)))
}

/**
 * A family: one baseline (the bare server) and the contenders that add a
 * shutdown library to the very same app. Ratios are always contender ÷ its
 * own family's baseline; `baseline2` is a second, identical bare server for
 * the A/A noise floor.
 */
export interface Family {
  name: string
  baseline: ServerSpec
  contenders: (ServerSpec & { ours?: boolean })[]
  /** Measured in the hot-path section only: the shutdown scenarios already run these libraries on node:http. */
  overheadOnly?: boolean
}

export function families (): Family[] {
  const list: Family[] = availableFrameworks().map((framework) => ({
    name: framework,
    baseline: exampleSpec(framework, false),
    contenders: [{ ...exampleSpec(framework, true), ours: true }],
  }))
  list.push({
    name: 'node:http',
    baseline: { name: 'node:http (bare)', file: server('node-http'), env: bare },
    contenders: [
      { name: '@graceful/core', file: server('node-http'), ours: true },
      { name: '@godaddy/terminus', file: server('terminus') },
      { name: 'http-terminator', file: server('http-terminator') },
      { name: 'stoppable', file: server('stoppable') },
      { name: 'http-graceful-shutdown', file: server('http-graceful-shutdown') },
    ],
  })
  // The alternatives on Express and Koa wrap the bench's own app of that framework
  // (servers/wrapped.ts), compared with that app bare.
  const wrapped = (app: 'express' | 'koa', lib: string, name: string): ServerSpec => ({ name, file: server('wrapped'), env: { APP: app, LIB: lib } })
  if (availableFrameworks().includes('express')) {
    list.push({
      name: 'express (bench app)',
      overheadOnly: true,
      baseline: wrapped('express', 'bare', 'express app (bare)'),
      contenders: [
        wrapped('express', 'terminus', '@godaddy/terminus on express'),
        wrapped('express', 'http-terminator', 'http-terminator on express'),
        wrapped('express', 'stoppable', 'stoppable on express'),
        wrapped('express', 'http-graceful-shutdown', 'http-graceful-shutdown on express'),
      ],
    })
  }
  if (availableFrameworks().includes('koa')) {
    list.push({
      name: 'koa (bench app)',
      overheadOnly: true,
      baseline: wrapped('koa', 'bare', 'koa app (bare)'),
      contenders: [wrapped('koa', 'http-graceful-shutdown', 'http-graceful-shutdown on koa')],
    })
  }
  list.push({
    name: 'fastify (bench app)',
    baseline: { name: 'fastify app (bare)', file: server('fastify-bare') },
    contenders: [
      { name: 'fastify-graceful-shutdown', file: server('fastify-graceful-shutdown') },
      { name: 'close-with-grace', file: server('close-with-grace') },
    ],
  })
  return list
}

/** A second bare server of the same family, for the A/A comparison. */
export function twin (spec: ServerSpec): ServerSpec {
  return { ...spec, name: `${spec.name} #2` }
}

/** A server of the shutdown scenarios, with the bare server it is compared with. */
export interface Target extends ServerSpec {
  group: 'graceful' | 'bare' | 'alternative'
  /** Name of the bare server of the same framework. */
  baseline: string
}

/** Every server the shutdown scenarios run: ours, the bare baselines, the alternatives. */
export function shutdownTargets (): Target[] {
  const all = families().filter((family) => !family.overheadOnly)
  const spec = ({ name, file, env }: ServerSpec): ServerSpec => env ? { name, file, env } : { name, file }
  const ours: Target[] = []
  const bare: Target[] = []
  const alternatives: Target[] = []
  // The Fastify libraries are compared with bare Fastify: the example's, when it exists.
  const fastifyBare = all.find((f) => f.name === 'fastify')?.baseline.name
  for (const family of all) {
    const baseline = family.name === 'fastify (bench app)' && fastifyBare ? fastifyBare : family.baseline.name
    if (family.name !== 'fastify (bench app)' || !fastifyBare) bare.push({ ...spec(family.baseline), group: 'bare', baseline: family.baseline.name })
    for (const contender of family.contenders) {
      const target: Target = { ...spec(contender), group: contender.ours ? 'graceful' : 'alternative', baseline }
      if (contender.ours) ours.push(target)
      else alternatives.push(target)
    }
  }
  return [...ours, ...bare, ...alternatives]
}
