// The Kubernetes example (deploy/kubernetes) must agree with the options
// the app resolves from the env it sets, so the example cannot drift from them.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { environmentOptions, optionsFromEnvironment } from '@graceful/core'
import { resolveOptions } from '@graceful/core/adapter'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { portFromEnv } from '../../examples/env.js'

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
const dockerfile = readFileSync(new URL('../../deploy/docker/Dockerfile', import.meta.url), 'utf8')

interface Probe {
  httpGet?: { path?: string, port?: number | string }
  periodSeconds?: number
  timeoutSeconds?: number
  failureThreshold?: number
}
interface Container {
  name: string
  command?: string[]
  args?: string[]
  resources?: { requests?: Record<string, string>, limits?: Record<string, string> }
  securityContext?: { allowPrivilegeEscalation?: boolean, readOnlyRootFilesystem?: boolean, capabilities?: { drop?: string[] } }
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
    template: { metadata: { labels: Record<string, string> }, spec: { terminationGracePeriodSeconds?: number, securityContext?: { runAsNonRoot?: boolean }, containers: Container[] } }
  }
}
interface Budget extends Manifest {
  spec: { selector: { matchLabels: Record<string, string> }, maxUnavailable?: number | string, minAvailable?: number | string }
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
const budget = manifests.find((manifest): manifest is Budget => manifest.kind === 'PodDisruptionBudget')
const pod = deployment?.spec.template.spec
const container = pod?.containers[0]
const env = Object.fromEntries((container?.env ?? []).map(({ name, value }) => [name, value]))
// What any app using graceful resolves at start from this env, defaults applied:
// core reads GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY itself.
const options = resolveOptions(optionsFromEnvironment(env))
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

  it('set GRACEFUL_TIMEOUT and GRACEFUL_READINESS_DELAY, the variables core itself reads, to options it accepts', () => {
    expect(Object.keys(environmentOptions)).toEqual(['GRACEFUL_TIMEOUT', 'GRACEFUL_READINESS_DELAY', 'GRACEFUL_MAX_CONNECTION_AGE'])
    expect(env.GRACEFUL_TIMEOUT, 'GRACEFUL_TIMEOUT env').toBeDefined()
    expect(env.GRACEFUL_READINESS_DELAY, 'GRACEFUL_READINESS_DELAY env').toBeDefined()
    expect(options.timeout).toBe(Number(env.GRACEFUL_TIMEOUT))
    expect(options.readinessDelay).toBe(Number(env.GRACEFUL_READINESS_DELAY))
    // Names only an app could read would do nothing in an app that does not.
    expect(Object.keys(env).filter((name) => /TIMEOUT|DELAY/.test(name) && !(name in environmentOptions))).toEqual([])
  })

  it('run node itself (tini, then node, in exec form), never through npm, pnpm or yarn', () => {
    const command = [...(container?.command ?? []), ...(container?.args ?? [])]
    const entry = (line: string) => JSON.parse(new RegExp(`^${line}\\s+(\\[.*\\])\\s*$`, 'm').exec(dockerfile)?.[1] ?? 'null') as string[] | null
    const image = [...(entry('ENTRYPOINT') ?? []), ...(entry('CMD') ?? [])]
    const runs = command.length > 0 ? command : image
    expect(runs.join(' ')).toMatch(/^(\/usr\/bin\/tini -- |tini -- )?node dist\/server\.js$/)
    expect(runs.join(' ')).not.toMatch(/\b(npm|pnpm|yarn|sh -c)\b/)
  })

  it('run as a copyable production pod: resources, non-root, read-only, no privilege escalation', () => {
    expect(container?.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    expect(container?.resources?.limits?.memory).toBeDefined()
    expect(pod?.securityContext?.runAsNonRoot).toBe(true)
    expect(container?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
  })

  it('keep voluntary disruptions (node drains) to one pod at a time with a PodDisruptionBudget', () => {
    expect(budget?.spec.selector.matchLabels).toEqual(deployment?.spec.selector.matchLabels)
    expect(budget?.spec.maxUnavailable ?? (deployment!.spec as { replicas?: number }).replicas! - Number(budget?.spec.minAvailable)).toBe(1)
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

  it('probe readiness on the readiness path, tolerating one slow probe, often enough to be seen not-ready within readinessDelay', () => {
    const probe = container?.readinessProbe
    expect(probe?.failureThreshold ?? 3).toBeGreaterThanOrEqual(2)
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

  describe('the health-port alternative (health-port/patch.yaml over the Deployment)', () => {
    const patch = parseAllDocuments(readFileSync(`${dir}health-port/patch.yaml`, 'utf8'))[0]!.toJS() as Deployment
    const patched = patch.spec.template.spec.containers.find((c) => c.name === container?.name)
    // What `kubectl patch` (strategic merge) gives: ports merged by containerPort, probes merged field by field.
    const merged: Container = {
      ...container!,
      ports: [...(container?.ports ?? []), ...(patched?.ports ?? [])],
      readinessProbe: { ...container?.readinessProbe, httpGet: { ...container?.readinessProbe?.httpGet, ...patched?.readinessProbe?.httpGet } },
      livenessProbe: { ...container?.livenessProbe, httpGet: { ...container?.livenessProbe?.httpGet, ...patched?.livenessProbe?.httpGet } },
    }
    const healthPort = merged.ports?.find((port) => port.name === 'health')
    // The app of this alternative: the same env, plus `health: { port }` in code.
    const withPort = resolveOptions({ ...optionsFromEnvironment(env), health: { port: healthPort?.containerPort } })
    const onHealthPort = (port: number | string | undefined) => port === healthPort?.containerPort || port === healthPort?.name

    it('patches the same Deployment and container', () => {
      expect(patch.kind).toBe('Deployment')
      expect(patch.metadata.name).toBe(deployment?.metadata.name)
      expect(patched).toBeDefined()
    })

    it('adds a health port other than the app port, and points both probes at it with the paths the health listener serves', () => {
      expect(healthPort?.containerPort).not.toBe(containerPort?.containerPort)
      expect(withPort.healthListener).toMatchObject({ port: healthPort?.containerPort, host: undefined })
      expect(merged.readinessProbe?.httpGet?.path).toBe(withPort.healthListener?.readiness)
      expect(merged.livenessProbe?.httpGet?.path).toBe(withPort.healthListener?.liveness)
      expect(onHealthPort(merged.readinessProbe?.httpGet?.port), 'readinessProbe port').toBe(true)
      expect(onHealthPort(merged.livenessProbe?.httpGet?.port), 'livenessProbe port').toBe(true)
      // The app port has no health routes then; the Service keeps routing traffic to the app port.
      expect(withPort.health).toMatchObject({ liveness: false, readiness: false })
      expect(service?.spec.ports.every((port) => samePort(port.targetPort))).toBe(true)
    })

    it('keeps the timing relations: the probe timings are the Deployment\'s', () => {
      expect(probeDetectionMs(merged.readinessProbe ?? {})).toBeLessThanOrEqual(withPort.readinessDelay)
      expect((merged.livenessProbe?.periodSeconds ?? 10) * (merged.livenessProbe?.failureThreshold ?? 3) * 1000).toBeGreaterThan(withPort.timeout)
    })
  })

  it('roll out without going under capacity, and route the Service to the app port', () => {
    expect(deployment?.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0)
    expect(service?.spec.selector).toEqual(deployment?.spec.selector.matchLabels)
    expect(deployment?.spec.template.metadata.labels).toMatchObject(deployment?.spec.selector.matchLabels ?? {})
    expect(service?.spec.ports.every((port) => samePort(port.targetPort)), 'Service targetPort').toBe(true)
  })
})
