import type { Logger } from '../types/lifecycle.js'

/** What the rule looks at; the process's own by default, injectable in tests. */
export interface RoutingEnvironment {
  env: NodeJS.ProcessEnv
  /** A terminal is attached to stdin: someone at a keyboard, `node --watch`, `npm run dev`. */
  interactive: () => boolean
}

export interface RoutingHint {
  /** Readiness was answered: something (kubelet, a load balancer's check) probes this instance. */
  probed: () => void
  /** Asked once, when a shutdown with a `readinessDelay` starts: is the delay of any use? */
  couldRouteHere: () => boolean
}

const processEnvironment: RoutingEnvironment = {
  env: process.env,
  interactive: () => process.stdin.isTTY === true,
}

/**
 * `readinessDelay` keeps serving while load balancers take the instance out of
 * rotation. It is of use only when something could still route here, and it
 * makes every Ctrl-C and `node --watch` restart of a laptop session wait.
 * The rule: the delay is skipped when all three hold —
 *
 * - readiness was never answered since start (no kubelet, no active health check),
 * - not under Kubernetes (`KUBERNETES_SERVICE_HOST`, set in every pod: endpoints
 *   are removed on pod deletion, probed or not),
 * - stdin is a terminal (an interactive session, which production never is:
 *   containers, systemd, PM2 and cluster workers run without one).
 *
 * Anything else keeps the delay: when in doubt, serve.
 */
export function createRoutingHint (log: Logger, environment: RoutingEnvironment = processEnvironment): RoutingHint {
  let probed = false
  return {
    probed: () => { probed = true },
    couldRouteHere: () => {
      if (probed || isSet(environment.env.KUBERNETES_SERVICE_HOST) || !environment.interactive()) return true
      log.info({ reason: 'interactive terminal, readiness never probed, not under Kubernetes' }, 'graceful: readinessDelay skipped, nothing could still route here')
      return false
    },
  }
}

function isSet (value: string | undefined): boolean {
  return value !== undefined && value !== ''
}
