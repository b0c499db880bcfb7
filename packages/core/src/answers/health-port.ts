import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { writeAnswer } from './answer.js'
import { createControlListener, hostOf, portOf, send } from './control.js'
import type { ResolvedControl, ResolvedHealthListener } from '../types/options.js'
import { invalidOption } from '../support/errors.js'
import { liveness, matchHealth } from './health.js'
import type { HealthResponse, Logger, Stats } from '../types/lifecycle.js'

/** `health.port` and `health.host`, or null when health stays on the app's routes. */
export function resolveHealthListener (input: { port?: unknown, host?: unknown }, liveness: string | false, readiness: string | false): ResolvedHealthListener | null {
  if (input.port === undefined) {
    if (input.host !== undefined) throw invalidOption('health.host', 'unset without health.port (the app\'s own listener serves health then)', input.host)
    return null
  }
  return { port: portOf('health.port', input.port), host: hostOf('health.host', input.host), liveness, readiness }
}

/** Refuses a control port that would collide with the health port on another address. */
export function checkSharedPort (health: ResolvedHealthListener | null, control: ResolvedControl | null): void {
  if (!health || !control || health.port === 0 || health.port !== control.port) return
  if (health.host !== control.host) {
    throw invalidOption('control.port', `a port other than health.port (${health.port}), or control.host equal to health.host (one listener then carries both)`, control.port)
  }
}

export interface SideListenerParts {
  health: ResolvedHealthListener | null
  control: ResolvedControl | null
  readiness: () => Promise<HealthResponse>
  pause: (reason?: string) => boolean
  resume: () => boolean
  stats: () => Stats
  log: Logger
}

export interface SideListeners {
  /** The health listener, if any (it carries the control surface too when they share a port). */
  readonly health: Server | null
  /** The control listener, if any (the health one when shared). */
  readonly control: Server | null
  /** Closes both and every connection on them: called at the end of the shutdown. */
  close: () => void
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** Starts the health and control listeners the options ask for. Neither keeps the process alive. */
export function startSideListeners (parts: SideListenerParts): SideListeners {
  const { health, control, log } = parts
  const controlListener = control ? createControlListener({ control, pause: parts.pause, resume: parts.resume, stats: parts.stats, log }) : null
  // Same port and host: one listener (port 0 too: one ephemeral port for both).
  const shared = health !== null && control !== null && health.port === control.port && health.host === control.host
  let healthServer: Server | null = null
  let controlServer: Server | null = null

  if (health) {
    const fallback = shared ? controlListener! : notFound
    healthServer = listen('health', health.port, health.host, function gracefulHealthPort (req, res) {
      const endpoint = matchHealth(health, req.url)
      if (endpoint === null) return fallback(req, res)
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { status: 'method not allowed' }, { allow: 'GET, HEAD' })
      if (endpoint === 'liveness') return writeAnswer(req, res, liveness())
      parts.readiness().then((answer) => writeAnswer(req, res, answer), () => send(res, 503, { status: 'unavailable' }))
    })
  }
  if (controlListener) controlServer = shared ? healthServer : listen('control', control!.port, control!.host, controlListener)

  function listen (name: string, port: number, host: string | undefined, listener: Listener): Server {
    // A probe or an operator is tiny and quick: a client that takes longer is cut (408), with a check every second.
    const server = createServer({ requestTimeout: 5000, headersTimeout: 5000, keepAliveTimeout: 5000, connectionsCheckingInterval: 1000 }, listener)
    server.on('error', (error) => log.error({ err: error, port, host }, `graceful: the ${name} listener failed`))
    server.listen(port, host)
    // Out of the drain and never a reason to stay alive: the process exits when the app is done.
    server.unref()
    return server
  }

  return {
    get health () { return healthServer },
    get control () { return controlServer },
    close () {
      for (const server of new Set([healthServer, controlServer])) {
        if (!server) continue
        server.close()
        server.closeAllConnections()
      }
    },
  }
}

function notFound (_req: IncomingMessage, res: ServerResponse): void {
  send(res, 404, { status: 'not found' })
}
