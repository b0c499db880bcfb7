// The Docker, Compose and Amazon ECS examples (deploy/docker, deploy/ecs) must agree with
// the options graceful resolves from the environment they set: every platform sends
// SIGTERM, waits, then SIGKILLs, and that wait must cover graceful's whole budget. No
// Docker engine or AWS account here: the numbers are checked where they are written.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { optionsFromEnvironment } from '@graceful/core'
import { resolveOptions } from '@graceful/core/adapter'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const file = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url))
const dockerfile = readFileSync(file('docker/Dockerfile'), 'utf8')

/** Node majors, their end of life (nodejs.org's release schedule). Odd majors are never LTS. */
const endOfLife: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' }
/** The signals graceful drains on by default. */
const drainSignals = ['SIGTERM', 'SIGINT']
/** Docker's and Compose's wait between the stop signal and SIGKILL when nothing sets it. */
const dockerDefaultStopMs = 10_000

/** `12s`, `1m30s`, `500ms` (Compose durations) in ms. */
function durationMs (value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) throw new Error(`not a Compose duration: ${value}`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  return parts.reduce((sum, [, amount, suffix]) => sum + Number(amount) * unit[suffix as keyof typeof unit], 0)
}

describe('deploy/docker/Dockerfile', () => {
  const bases = [...dockerfile.matchAll(/^FROM\s+node:(\d+)(\S*)/gm)].map((match) => Number(match[1]))

  it('builds and runs on a Node LTS line CI tests, not past its end of life', () => {
    expect(bases.length).toBeGreaterThan(0)
    expect(new Set(bases).size, 'one Node major for build and runtime').toBe(1)
    const major = bases[0] ?? 0
    expect(endOfLife[major], `node:${major} is not an LTS line graceful is tested on`).toBeDefined()
    expect(Date.parse(endOfLife[major] ?? ''), `node:${major} reached end of life on ${endOfLife[major]}: move the base image on`).toBeGreaterThan(Date.now())
  })

  it('stops with a signal graceful drains on', () => {
    const stop = /^STOPSIGNAL\s+(\S+)/m.exec(dockerfile)?.[1] ?? 'SIGTERM'
    expect(drainSignals).toContain(stop)
  })

  it('has an ignore file that keeps node_modules, dist, .git and .env out of the build context', () => {
    const ignore = file('docker/Dockerfile.dockerignore')
    expect(existsSync(ignore)).toBe(true)
    const lines = readFileSync(ignore, 'utf8').split('\n').map((line) => line.trim())
    expect(lines).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env']))
  })
})

describe('deploy/docker/compose.yaml', () => {
  interface Service {
    environment?: Record<string, string>
    stop_grace_period?: string
    stop_signal?: string
    init?: boolean
    healthcheck?: { test: string[] }
  }
  const compose = parse(readFileSync(file('docker/compose.yaml'), 'utf8')) as { services: Record<string, Service> }
  const [name, service] = Object.entries(compose.services)[0] ?? []
  const options = resolveOptions(optionsFromEnvironment(service?.environment ?? {}))

  it('waits longer than graceful\'s whole budget before SIGKILL (Compose\'s default 10 s equals the default budget: the last hook would race it)', () => {
    expect(name).toBeTruthy()
    expect(service?.stop_grace_period, 'stop_grace_period must be set: the default is 10 s').toBeDefined()
    const graceMs = durationMs(service?.stop_grace_period ?? '10s')
    expect(graceMs).toBeGreaterThanOrEqual(options.timeout + 1000)
    expect(graceMs).toBeGreaterThan(dockerDefaultStopMs)
  })

  it('sends a signal graceful drains on, to node under exactly one init (tini in the image, or init: true)', () => {
    expect(drainSignals).toContain(service?.stop_signal ?? 'SIGTERM')
    const imageHasTini = /^ENTRYPOINT\s+\[\s*"[^"]*tini"/m.test(dockerfile)
    expect(imageHasTini !== (service?.init === true), 'tini in the image xor init: true').toBe(true)
  })

  it('checks health on a path graceful serves', () => {
    expect(service?.healthcheck?.test.join(' ')).toMatch(new RegExp(`127\\.0\\.0\\.1:\\d+(${options.health.readiness}|${options.health.liveness})\\b`))
  })
})

describe('deploy/ecs', () => {
  interface Container { environment: { name: string, value: string }[], stopTimeout?: number }
  const task = JSON.parse(readFileSync(file('ecs/task-definition.json'), 'utf8')) as { containerDefinitions: Container[] }
  const container = task.containerDefinitions[0]
  const env = Object.fromEntries((container?.environment ?? []).map(({ name, value }) => [name, value]))
  const options = resolveOptions(optionsFromEnvironment(env))
  const attributes = JSON.parse(readFileSync(file('ecs/target-group-attributes.json'), 'utf8')) as { Key: string, Value: string }[]
  const deregistrationMs = Number(attributes.find(({ Key }) => Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300) * 1000

  it('stopTimeout covers the whole budget + 1 s (ECS default 30 s, Fargate at most 120 s)', () => {
    const stopMs = (container?.stopTimeout ?? 30) * 1000
    expect(stopMs).toBeGreaterThanOrEqual(options.timeout + 1000)
    expect(stopMs).toBeLessThanOrEqual(120_000)
  })

  it('deregistration delay: shorter than the default 300 s, longer than a drain, so SIGTERM finds the target drained', () => {
    expect(deregistrationMs).toBeLessThan(300_000)
    expect(deregistrationMs).toBeGreaterThanOrEqual(options.timeout - options.releaseTimeout)
    // ECS sends SIGTERM only after the deregistration delay: the delay in the app only
    // covers the load balancer nodes that learn of it late, a second or two.
    expect(options.readinessDelay).toBeGreaterThan(0)
    expect(options.readinessDelay).toBeLessThanOrEqual(5000)
  })
})

describe('deploy/cloud-run/service.yaml', () => {
  interface Container { env: { name: string, value: string }[], startupProbe?: { httpGet?: { path?: string } } }
  const service = parse(readFileSync(file('cloud-run/service.yaml'), 'utf8')) as { spec: { template: { spec: { containers: Container[] } } } }
  const container = service.spec.template.spec.containers[0]
  const options = resolveOptions(optionsFromEnvironment(Object.fromEntries((container?.env ?? []).map(({ name, value }) => [name, value]))))
  /** Cloud Run's fixed wait between SIGTERM and SIGKILL. */
  const cloudRunStopMs = 10_000

  it('ends the whole budget 1 s or more before Cloud Run\'s SIGKILL, 10 s after SIGTERM (the default budget would race it)', () => {
    expect(options.timeout + 1000).toBeLessThanOrEqual(cloudRunStopMs)
    expect(resolveOptions({}).timeout + 1000, 'the default budget does not fit: the file must set GRACEFUL_TIMEOUT').toBeGreaterThan(cloudRunStopMs)
  })

  it('no readiness delay (Cloud Run routes nothing new to an instance it stops); startup gated on readiness', () => {
    expect(options.readinessDelay).toBe(0)
    expect(container?.startupProbe?.httpGet?.path).toBe(options.health.readiness)
  })
})
