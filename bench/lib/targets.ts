import { exampleExists, exampleOf } from '@graceful/test-kit/examples'
import { fromRoot, type ServerGroup, type ServerSpec } from './children.js'

const bare = { GRACEFUL: '0' }
const example = (framework: Framework) => exampleOf(framework).file
const server = (name: string) => fromRoot('bench', 'servers', `${name}.ts`)

/** The frameworks the demo and the bench drive through their example apps. */
export const frameworks = ['fastify', 'express', 'koa', 'nestjs'] as const
export type Framework = typeof frameworks[number]

/** The example app of a framework, with the plugin or bare (`GRACEFUL=0`). */
export function exampleSpec (framework: Framework, withPlugin: boolean): ServerSpec {
  return withPlugin
    ? { name: `${framework} + graceful`, file: example(framework), group: 'graceful', framework }
    : { name: `${framework} (bare)`, file: example(framework), env: bare, group: 'bare', framework }
}

/** Frameworks whose example app exists yet (other work may still be landing). */
export function availableFrameworks (): Framework[] {
  return frameworks.filter((framework) => exampleExists(exampleOf(framework)))
}

/**
 * A family: one baseline (the bare server) and the contenders that add a
 * shutdown library to the very same app. Ratios are always contender ÷ its
 * own family's baseline; `baseline2` is a second, identical bare server for
 * the A/A noise floor.
 */
export interface Family {
  name: string
  /** The framework every server of the family runs on. */
  framework: string
  baseline: ServerSpec
  contenders: ServerSpec[]
  /** Measured in the hot-path section only: the shutdown scenarios already run these libraries on node:http. */
  overheadOnly?: boolean
  /**
   * Its hot-path pairs run with `pnpm bench --long`, not in the default run: the
   * alternatives again on the Fastify, Express and Koa apps (the default measures
   * each once, on node:http) and graceful's opt-in options. Its servers still run
   * in the default run's shutdown scenarios when they are part of them.
   */
  long?: boolean
}

export function families (): Family[] {
  const list: Family[] = availableFrameworks().map((framework) => ({
    name: framework,
    framework,
    baseline: exampleSpec(framework, false),
    contenders: [exampleSpec(framework, true)],
  }))
  const nodeHttp = (name: string, file: string, group: ServerGroup, env?: Record<string, string>): ServerSpec =>
    ({ name, file: server(file), group, framework: 'node:http', ...(env ? { env } : {}) })
  list.push({
    name: 'node:http',
    framework: 'node:http',
    baseline: nodeHttp('node:http (bare)', 'node-http', 'bare', bare),
    contenders: [
      nodeHttp('@graceful/core', 'node-http', 'graceful'),
      nodeHttp('@godaddy/terminus', 'terminus', 'alternative'),
      nodeHttp('http-terminator', 'http-terminator', 'alternative'),
      nodeHttp('stoppable', 'stoppable', 'alternative'),
      nodeHttp('http-graceful-shutdown', 'http-graceful-shutdown', 'alternative'),
    ],
  })
  // The opt-in options on the same node:http server, against the same bare server.
  list.push({
    name: 'node:http (opt-in options)',
    framework: 'node:http',
    overheadOnly: true,
    long: true,
    baseline: nodeHttp('node:http (bare)', 'node-http', 'bare', bare),
    contenders: [
      // What the option costs per connection: a timer armed at accept, none due within the run.
      nodeHttp('@graceful/core + maxConnectionAge 60 s', 'node-http', 'graceful', { GRACEFUL_MAX_CONNECTION_AGE: '60000' }),
      // Every connection recycled every ~1 s (±10 %) within the runs: the timers fire, clients reconnect.
      {
        ...nodeHttp('@graceful/core + maxConnectionAge 1 s', 'node-http', 'graceful', { GRACEFUL_MAX_CONNECTION_AGE: '1000' }),
        stress: 'every connection closed and reopened each second: the reconnects the option exists to cause, not per-request work',
      },
      nodeHttp('@graceful/core + diagnostics_channel subscribers', 'node-http', 'graceful', { BENCH_SUBSCRIBE: '1' }),
    ],
  })
  // The alternatives on Express and Koa wrap the bench's own app of that framework
  // (servers/wrapped.ts), compared with that app bare.
  const wrapped = (app: 'express' | 'koa', lib: string, name: string): ServerSpec =>
    ({ name, file: server('wrapped'), env: { APP: app, LIB: lib }, group: lib === 'bare' ? 'bare' : 'alternative', framework: app })
  if (availableFrameworks().includes('express')) {
    list.push({
      name: 'express (bench app)',
      framework: 'express',
      overheadOnly: true,
      long: true,
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
      framework: 'koa',
      overheadOnly: true,
      long: true,
      baseline: wrapped('koa', 'bare', 'koa app (bare)'),
      contenders: [wrapped('koa', 'http-graceful-shutdown', 'http-graceful-shutdown on koa')],
    })
  }
  list.push({
    name: 'fastify (bench app)',
    framework: 'fastify',
    long: true,
    baseline: { name: 'fastify app (bare)', file: server('fastify-bare'), group: 'bare', framework: 'fastify' },
    contenders: [
      { name: 'fastify-graceful-shutdown', file: server('fastify-graceful-shutdown'), group: 'alternative', framework: 'fastify' },
      { name: 'close-with-grace', file: server('close-with-grace'), group: 'alternative', framework: 'fastify' },
    ],
  })
  return list
}

/** A second bare server of the same family, for the A/A comparison. */
export function twin (spec: ServerSpec): ServerSpec {
  return { ...spec, name: `${spec.name} #2` }
}

/**
 * The idle section's second floor, beside the bare kill: the bare server of a
 * framework calling `process.exit()` on SIGTERM (the probe adds the listener),
 * which is what any process of that framework that exits by itself pays (the
 * signal reaching JavaScript, Node's orderly exit, the same teardown).
 */
export function exitAtOnce (bareTarget: Target): Target {
  return { ...bareTarget, name: exitAtOnceName(bareTarget.framework), env: { ...bareTarget.env, BENCH_EXIT_AT_ONCE: '1' }, baseline: bareTarget.name }
}

export const exitAtOnceName = (framework: string): string => `${framework}, process.exit() on SIGTERM`

/** A server of the shutdown scenarios, with the bare server it is compared with. */
export interface Target extends ServerSpec {
  /** Name of the bare server of the same framework. */
  baseline: string
}

/** Every server the shutdown scenarios run: ours, the bare baselines, the alternatives. */
export function shutdownTargets (): Target[] {
  const all = families().filter((family) => !family.overheadOnly)
  const targets: Target[] = []
  // The Fastify libraries run on the bench's own Fastify app; they are compared with
  // bare Fastify: the example's, when it exists, which then stands for that family's baseline too.
  const bareOf = new Map<string, string>()
  for (const family of all) if (!bareOf.has(family.framework)) bareOf.set(family.framework, family.baseline.name)
  for (const family of all) {
    const baseline = bareOf.get(family.framework) ?? family.baseline.name
    if (baseline === family.baseline.name) targets.push({ ...family.baseline, baseline })
    for (const contender of family.contenders) targets.push({ ...contender, baseline })
  }
  const order: ServerGroup[] = ['graceful', 'bare', 'alternative']
  return targets.sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group))
}
