import { HealthImplementation, type ServingStatus } from 'grpc-health-check'
import type { Server } from '@grpc/grpc-js'

// The standard health service (grpc.health.v1), as Kubernetes' gRPC probes,
// Envoy and grpc_health_probe query it: SERVING while accepting, NOT_SERVING
// for every service from the trigger on, while calls are still served.

export const healthService = 'grpc.health.v1.Health'

export interface Health {
  /** Report `status` for the whole server (`''`) and every service seen so far. */
  setAll: (status: ServingStatus) => void
  /** A service was registered: report it like the others. */
  add: (service: string) => void
  implementation: HealthImplementation
}

// The implementation added to a server, so a second attach() (after detach()) reuses it:
// grpc-js refuses a service registered twice.
const added = Symbol.for('graceful.grpc.health')

export function createHealth (server: Server, given: HealthImplementation | undefined, initial: ServingStatus): Health {
  const marked = server as Server & { [added]?: HealthImplementation }
  const reused = given === undefined ? marked[added] : undefined
  const implementation = given ?? reused ?? new HealthImplementation({ '': initial })
  const services = new Set<string>([''])
  let current = initial
  const health: Health = {
    implementation,
    setAll (status) {
      current = status
      for (const service of services) implementation.setStatus(service, status)
    },
    add (service) {
      if (service === healthService || services.has(service)) return
      services.add(service)
      implementation.setStatus(service, current)
    },
  }
  if (!given && !reused) {
    implementation.addToServer(server)
    marked[added] = implementation
  }
  if (reused) implementation.setStatus('', initial)
  return health
}

/** `/package.Service/Method` → `package.Service` */
export function serviceOf (path: string): string {
  return path.split('/')[1] ?? ''
}
