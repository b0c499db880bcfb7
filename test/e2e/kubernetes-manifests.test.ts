// Issue 5: the Kubernetes example (deploy/kubernetes) must agree with the options
// the app resolves from the env it sets, so the example cannot drift from them.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { resolveOptions } from '@graceful/core'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { optionsFromEnv, portFromEnv } from '../../examples/node-http/env.js'

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))

interface Probe {
  httpGet?: { path?: string, port?: number | string }
  periodSeconds?: number
  timeoutSeconds?: number
  failureThreshold?: number
}
interface Container {
  name: string
  ports?: { name?: string, containerPort: number }[]
  env?: { name: string, value?: string }[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  lifecycle?: { preStop?: { sleep?: { seconds: number }, exec?: { command: string[] }, httpGet?: unknown } }
}
interface Manifest {
  kind: string
  metadata: { name: string }
  spec: Record<string, unknown>
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> }
    strategy?: { type?: string, rollingUpdate?: { maxUnavailable?: number | string } }
    template: { metadata: { labels: Record<string, string> }, spec: { terminationGracePeriodSeconds?: number, containers: Container[] } }
  }
}
interface Service extends Manifest {
  spec: { selector: Record<string, string>, ports: { port: number, targetPort: number | string }[] }
}

const manifests: Manifest[] = readdirSync(dir)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) => parseAllDocuments(readFileSync(`${dir}${file}`, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map(String).join('; ')}`)
    return document.toJS() as Manifest
  }))
  .filter((manifest) => manifest !== null)

const deployment = manifests.find((manifest): manifest is Deployment => manifest.kind === 'Deployment')
const service = manifests.find((manifest): manifest is Service => manifest.kind === 'Service')
const pod = deployment?.spec.template.spec
const container = pod?.containers[0]
const env = Object.fromEntries((container?.env ?? []).map(({ name, value }) => [name, value]))
// What the app resolves at start from this env, defaults applied, exactly as core does.
const options = resolveOptions(optionsFromEnv(env))
const containerPort = container?.ports?.find((port) => port.containerPort === portFromEnv(env))

/** A probe's or service's port, by name or number, must be the one the app listens on. */
const samePort = (port: number | string | undefined) => port === containerPort?.containerPort || (port !== undefined && port === containerPort?.name)

/** The seconds a preStop hook holds SIGTERM back (a sleep action or `sleep N`). */
function preStopMs (): number {
  const preStop = container?.lifecycle?.preStop
  if (!preStop) return 0
  if (preStop.sleep) return preStop.sleep.seconds * 1000
  const command = preStop.exec?.command.join(' ') ?? ''
  const match = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(command)
  if (!match) throw new Error(`preStop must be a sleep so its length can be checked, got ${JSON.stringify(preStop)}`)
  return Number(match[1]) * 1000
}

/** Longest time a probe can keep saying "fine" about a process that no longer is. */
const probeDetectionMs = (probe: Probe) => ((probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) + (probe.timeoutSeconds ?? 1)) * 1000

describe('deploy/kubernetes manifests', () => {
  it('hold one Deployment and one Service with one container', () => {
    expect(deployment?.metadata.name).toBeTruthy()
    expect(service?.metadata.name).toBeTruthy()
    expect(pod?.containers).toHaveLength(1)
  })

  it('set TIMEOUT and READINESS_DELAY explicitly, to options core accepts', () => {
    expect(env.TIMEOUT, 'TIMEOUT env').toBeDefined()
    expect(env.READINESS_DELAY, 'READINESS_DELAY env').toBeDefined()
    expect(options.timeout).toBe(Number(env.TIMEOUT))
    expect(options.readinessDelay).toBe(Number(env.READINESS_DELAY))
  })

  it('terminationGracePeriodSeconds covers preStop + the whole budget (delay + drain + release hooks) + 1 s', () => {
    const graceMs = (pod?.terminationGracePeriodSeconds ?? 30) * 1000
    // graceful exits by the end of `timeout` (a few ms after, at most); the
    // margin covers the exit itself and the kubelet's own latency.
    expect(graceMs).toBeGreaterThanOrEqual(preStopMs() + options.timeout + 1000)
    // The budget is shared: the delay and the release share leave time to drain.
    expect(options.readinessDelay + options.releaseTimeout).toBeLessThan(options.timeout)
  })

  it('wait long enough after SIGTERM for endpoints to catch up (readinessDelay + preStop ≥ 5 s)', () => {
    // Endpoint removal reaches kube-proxy and load balancers asynchronously;
    // "a few seconds" is the usual advice. No preStop here: readinessDelay does it.
    expect(options.readinessDelay + preStopMs()).toBeGreaterThanOrEqual(5000)
  })

  it('probe readiness on the readiness path, often enough to be seen not-ready within readinessDelay', () => {
    const probe = container?.readinessProbe
    expect(probe?.httpGet?.path).toBe(options.health.readiness)
    expect(samePort(probe?.httpGet?.port), 'readinessProbe port').toBe(true)
    expect(probeDetectionMs(probe ?? {})).toBeLessThanOrEqual(options.readinessDelay)
  })

  it('probe liveness on the liveness path, never failing a pod for the length of its drain', () => {
    const probe = container?.livenessProbe
    expect(probe?.httpGet?.path).toBe(options.health.liveness)
    expect(samePort(probe?.httpGet?.port), 'livenessProbe port').toBe(true)
    // Once the listener closes, the probe cannot connect: it must not reach
    // failureThreshold before the budget ends, or the kubelet kills a drain.
    expect((probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) * 1000).toBeGreaterThan(options.timeout)
  })

  it('roll out without going under capacity, and route the Service to the app port', () => {
    expect(deployment?.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0)
    expect(service?.spec.selector).toEqual(deployment?.spec.selector.matchLabels)
    expect(deployment?.spec.template.metadata.labels).toMatchObject(deployment?.spec.selector.matchLabels ?? {})
    expect(service?.spec.ports.every((port) => samePort(port.targetPort)), 'Service targetPort').toBe(true)
  })
})
