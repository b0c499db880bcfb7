import { readiness } from '../answers/health.js'
import type { Tracker } from '../connections/tracker.js'
import type { IntegrationListeners } from '../process/reload/listeners.js'
import { signalReady } from '../process/reload/inherit.js'
import type { ResolvedOptions } from '../types/options.js'
import type { HealthResponse, Logger } from '../types/lifecycle.js'
import type { Lifecycle } from './lifecycle.js'
import type { Pause } from './pause.js'
import type { RoutingHint } from './skip-delay-on-laptop.js'

export interface ReadinessParts {
  opts: Pick<ResolvedOptions, 'health' | 'readyWhen' | 'pm2' | 'reload'>
  log: Logger
  lifecycle: Pick<Lifecycle, 'state'>
  tracker: Pick<Tracker, 'attached' | 'listening'>
  /** Listening sockets an integration serves itself (gRPC): readiness waits for them too. */
  listeners: Pick<IntegrationListeners, 'size' | 'listening'>
  pause: Pick<Pause, 'current'>
  routing: Pick<RoutingHint, 'probed'>
  /** systemd's READY=1 (systemd.ts). */
  systemdReady: () => void
}

export interface Readiness {
  /** Ready, and not paused: the handle's `ready`. */
  readonly ready: boolean
  /** The readiness answer, for the app's route, the health port and the adapters. */
  answer: () => Promise<HealthResponse>
  /** The app says startup is complete (`markReady()`). */
  markReady: () => void
  /** Something that readiness depends on changed (attached, listening): tell who waits for it. */
  announce: () => void
}

/**
 * Readiness: not ready while starting (until `markReady()`, or until every
 * attached server listens with `readyWhen: 'listening'`), while paused, and
 * from the trigger on. The first time it holds, whoever waits hears it: the
 * old process of a reload, systemd, PM2.
 */
export function createReadiness (parts: ReadinessParts): Readiness {
  const { opts, lifecycle, tracker, listeners } = parts
  let markedReady = false
  let announced = false

  function isReady (): boolean {
    if (lifecycle.state !== 'accepting') return false
    if (markedReady) return true
    return opts.readyWhen === 'listening' && allListening()
  }

  /** Every attached server and every integration's listener listens (and there is at least one). */
  function allListening (): boolean {
    if (tracker.attached === 0) return listeners.size > 0 && listeners.listening
    return tracker.listening && listeners.listening
  }

  function announce (): void {
    // After a reload: the old process drains once this one is ready.
    signalReady(isReady(), opts.reload?.pidFile ?? null, parts.log)
    if (isReady()) parts.systemdReady()
    // PM2's `wait_ready`: one `'ready'` message, the first time readiness holds.
    if (!opts.pm2 || announced || !isReady() || typeof process.send !== 'function') return
    announced = true
    process.send('ready')
  }

  return {
    get ready () { return isReady() && parts.pause.current === null },
    answer () {
      parts.routing.probed()
      if (lifecycle.state !== 'accepting') return readiness(opts.health, 'draining')
      if (!isReady()) return readiness(opts.health, 'starting')
      const paused = parts.pause.current
      return paused ? readiness(opts.health, 'paused', paused.reason) : readiness(opts.health, 'ready')
    },
    markReady () {
      markedReady = true
      announce()
    },
    announce,
  }
}
