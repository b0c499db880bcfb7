import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { within } from '@graceful/test-kit'
import { expect, it } from 'vitest'
import { describeWithBinary, findBinary } from './binaries.js'
import type { Processes, Started } from '@graceful/test-kit/processes'

/**
 * Health-check timings, as a user would set them, and the rule they imply for
 * `readinessDelay`: after SIGTERM, HAProxy needs at most `fall` checks, `inter`
 * apart, each answered within `timeout check`, to stop routing to the instance.
 */
export const checks = { interMs: 200, fall: 1, rise: 1, timeoutMs: 1000 } as const

/** The longest HAProxy can keep routing new requests to an instance whose readiness already says 503. */
export function detectionBoundMs (timings: { interMs: number, fall: number, timeoutMs: number } = checks): number {
  return timings.fall * timings.interMs + timings.timeoutMs
}

/** The haproxy binary, or null when it is not installed. */
export function findHaproxy (): string | null {
  return findBinary('haproxy')
}

/**
 * The app's budget in a rolling restart behind HAProxy, chosen by the rule deploy/README.md
 * states: readinessDelay covers HAProxy's worst-case detection (fall × inter + timeout
 * check), with margin.
 */
export const haproxyRoll = { instances: 3, timeoutMs: 6000, readinessDelayMs: 1500 } as const

/** {@link describeWithBinary} for HAProxy, with the check that the app's readiness delay covers its detection. */
export function describeBehindHaproxy (title: string, body: (haproxy: () => string) => void): void {
  describeWithBinary('haproxy', findHaproxy(), title, (haproxy) => {
    it('the readiness delay covers the health checks\' worst-case detection', () => {
      expect(haproxyRoll.readinessDelayMs).toBeGreaterThanOrEqual(detectionBoundMs())
    })
    body(haproxy)
  })
}

/**
 * A backend. With `checkPort` it is a gRPC backend: calls go to `port` over h2c,
 * HAProxy's health check to the app's HTTP `/readyz` on `checkPort` (HAProxy 2.6
 * has no gRPC check, and a `grpc.health.v1` request is a protobuf body that
 * `http-check send` cannot write; both flip at graceful's trigger). `check-proto
 * h1` must be on the `server` line after `proto h2`: on `default-server`,
 * HAProxy 2.6 runs the check over h2 ("Socket error" against an HTTP/1 port).
 */
export interface Backend { name: string, port: number, checkPort?: number }

/**
 * The configuration under test. Everything a careful operator would write, and
 * nothing that would hide failures from the client:
 *
 * - active checks of `/readyz` every 200 ms, down after 1 failure, up after 1 success;
 * - keep-alive to the backends, idle connections shared between clients (`http-reuse always`);
 * - `retries 3` + `option redispatch`: a connection that cannot be opened is retried,
 *   the last time on another server. That is always safe: nothing was sent yet.
 * - No `retry-on` beyond HAProxy's default (`conn-failure`): replaying a request the
 *   server may have started (a POST, a payment) is not safe, so we do not count on it.
 */
export function haproxyConfig (options: { frontend: string, admin: string, backends: readonly Backend[], h2?: boolean }): string {
  // gRPC: HTTP/2 end to end (prior knowledge on the frontend, as gRPC clients speak it).
  const h2 = options.h2 ?? options.backends.some((backend) => backend.checkPort !== undefined)
  return `global
  stats socket ${options.admin} mode 600 level admin
  log stderr format raw local0 info

defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout check ${checks.timeoutMs}ms
  retries 3
  option redispatch

frontend lb
  bind unix@${options.frontend}${h2 ? ' proto h2' : ''}
  default_backend app

backend app
  balance roundrobin
  http-reuse always
  option httpchk
  http-check send meth GET uri /readyz
  http-check expect status 200
  default-server check inter ${checks.interMs}ms fall ${checks.fall} rise ${checks.rise}
${options.backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port}${h2 ? ' proto h2' : ''}${backend.checkPort === undefined ? '' : ` check-proto h1 port ${backend.checkPort}`}`).join('\n')}
`
}

export interface ServerState { name: string, status: string, address: string }

export interface Haproxy {
  process: Started
  /** The frontend: a Unix socket, so no port has to be guessed (HAProxy cannot bind port 0). */
  socketPath: string
  /** One runtime API command on the admin socket; resolves with the answer. */
  command: (line: string) => Promise<string>
  servers: () => Promise<ServerState[]>
  /** Points a server slot at a new instance (runtime API: `set server … check-port`, then `addr`). */
  setServer: (name: string, port: number, checkPort?: number) => Promise<void>
  /** Bounded: resolves once every named server reports `status`. */
  waitFor: (names: readonly string[], status: 'UP' | 'DOWN', ms?: number) => Promise<void>
  /** HAProxy's log of abnormal requests (5xx, aborts), for the report. */
  errors: () => string[]
}

export async function startHaproxy (binary: string, dir: string, backends: readonly Backend[], processes: Processes): Promise<Haproxy> {
  const socketPath = join(dir, 'lb.sock')
  const admin = join(dir, 'admin.sock')
  const config = join(dir, 'haproxy.cfg')
  await writeFile(config, haproxyConfig({ frontend: socketPath, admin, backends }))
  // -db: stay in the foreground, so the PID we hold is the one serving.
  const started = processes.spawn('haproxy', binary, ['-db', '-f', config])

  const command = (line: string) => within(new Promise<string>((resolve, reject) => {
    const socket = net.connect(admin)
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
    socket.end(`${line}\n`)
  }), 2000, `haproxy to answer "${line}"`)

  // The admin socket accepts once the configuration is loaded.
  const ready = Date.now() + 5000
  for (;;) {
    if (!started.alive()) throw new Error(`haproxy exited at start:\n${started.output()}`)
    try {
      await command('show info')
      break
    } catch (error) {
      if (Date.now() > ready) throw new Error(`haproxy did not open its admin socket: ${String(error)}\n${started.output()}`)
      await pause(20)
    }
  }

  const servers = async (): Promise<ServerState[]> => {
    const csv = (await command('show stat')).trim().split('\n')
    const header = (csv[0] ?? '').replace(/^# /, '').split(',')
    const column = (name: string) => header.indexOf(name)
    return csv.slice(1)
      .map((row) => row.split(','))
      .filter((cells) => cells[column('pxname')] === 'app' && !['FRONTEND', 'BACKEND'].includes(cells[column('svname')] ?? ''))
      .map((cells) => ({ name: cells[column('svname')] ?? '', status: cells[column('status')] ?? '', address: cells[column('addr')] ?? '' }))
  }

  return {
    process: started,
    socketPath,
    command,
    servers,
    setServer: async (name, port, checkPort) => {
      if (checkPort !== undefined) {
        // The check port first: once the address moves, the next check must ask the new instance.
        const answer = await command(`set server app/${name} check-port ${checkPort}`)
        if (answer.trim() !== '') throw new Error(`haproxy refused the check port of ${name}: ${answer}`)
      }
      const answer = await command(`set server app/${name} addr 127.0.0.1 port ${port}`)
      if (!/changed/i.test(answer)) throw new Error(`haproxy refused to move ${name} to port ${port}: ${answer}`)
    },
    waitFor: async (names, status, ms = 5000) => {
      const end = Date.now() + ms
      for (;;) {
        const states = await servers()
        const pending = names.filter((name) => states.find((state) => state.name === name)?.status !== status)
        if (pending.length === 0) return
        if (Date.now() > end) throw new Error(`haproxy: ${pending.join(', ')} not ${status} after ${ms} ms: ${JSON.stringify(states)}`)
        // HAProxy has no event to wait on; its own checks run every 200 ms.
        await pause(25)
      }
    },
    errors: () => started.output().split('\n').filter((line) => /app\/|lb\//.test(line)),
  }
}

function pause (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
