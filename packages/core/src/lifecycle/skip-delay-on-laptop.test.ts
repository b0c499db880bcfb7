import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createGraceful } from '../graceful.js'
import { createRoutingHint } from './skip-delay-on-laptop.js'

const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() })

describe('readinessDelay applies only when something could still route here', () => {
  const cases = [
    { name: 'interactive, never probed, not Kubernetes: skipped', interactive: true, probed: false, env: {}, delay: false },
    { name: 'interactive but readiness was probed: kept', interactive: true, probed: true, env: {}, delay: true },
    { name: 'interactive under Kubernetes: kept', interactive: true, probed: false, env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, delay: true },
    { name: 'no terminal (container, systemd, PM2, cluster worker): kept', interactive: false, probed: false, env: {}, delay: true },
  ]
  it.each(cases)('$name', ({ interactive, probed, env, delay }) => {
    const log = logger()
    const hint = createRoutingHint(log, { env, interactive: () => interactive })
    if (probed) hint.probed()
    expect(hint.couldRouteHere()).toBe(delay)
    // Skipping is said once, at info level, with the reason.
    expect(log.info).toHaveBeenCalledTimes(delay ? 0 : 1)
  })
})

describe('in a real instance', () => {
  const isTTY = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY')
  afterEach(() => {
    if (isTTY) Object.defineProperty(process.stdin, 'isTTY', isTTY)
    else delete (process.stdin as { isTTY?: boolean }).isTTY
    vi.unstubAllEnvs()
  })

  async function shutdownWith (probe: boolean): Promise<number> {
    const g = createGraceful({ signals: false, exit: false, readinessDelay: probe ? 300 : 5000, timeout: 8000 })
    const server = http.createServer(g.handler((_req, res) => { res.end('ok') }))
    g.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      if (probe) {
        const { port } = server.address() as AddressInfo
        const answer = await fetch(`http://127.0.0.1:${port}/readyz`)
        expect(answer.status).toBe(200)
      }
      const summary = await g.shutdown()
      return summary.durations.readinessDelay
    } finally {
      server.close()
    }
  }

  it('a developer\'s Ctrl-C: no 5 s wait when stdin is a terminal and nothing probed readiness', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '')
    Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true })
    expect(await shutdownWith(false)).toBeLessThan(2500)
  })

  it('the same terminal, once a probe has asked for readiness: the delay is served in full', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '')
    Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true })
    expect(await shutdownWith(true)).toBeGreaterThanOrEqual(290)
  })
})
