import http from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { within } from '@graceful/test-kit'
import { classify, emptyCounts, send, type Counts } from '@graceful/test-kit/client'

export interface LoadReport {
  requests: number
  ok: number
  /** Every request that did not end in a complete 2xx: `status 502`, `ECONNRESET`, … → count. */
  failures: Record<string, number>
  failed: number
  /** Every request in the bench's outcome classes (completed, 503 + close, refused, lost, …). */
  outcomes: Counts
}

export interface Load {
  /** Requests finished so far (any outcome). */
  readonly done: number
  /** Resolves once `n` more requests have finished; bounded. */
  more: (n: number, ms?: number) => Promise<void>
  /** Lets each loop finish its current request, then reports. */
  stop: () => Promise<LoadReport>
}

export interface LoadOptions {
  /** Where to send it: HAProxy's frontend socket, or a loopback port. */
  target: { socketPath: string } | { port: number }
  /** Loops hitting `/`, `pauseMs` apart: the connection sits idle in between, as real traffic does. */
  fast: number
  pauseMs: number
  /** Loops hitting `/slow?ms=…`: requests always in flight when an instance is stopped. */
  slow: number
  slowMs: number
  /** Loops POSTing a small JSON body to `/slow?ms=…`: in flight at a restart, and never replayed by a proxy. */
  posts?: number
  /** Per-request limit: a request that hangs is a failure, not a hung test. */
  requestTimeoutMs?: number
}

/**
 * `Load.more()` for a generator: `finished()` after each request is counted;
 * `more(n)` resolves once `count()` has grown by `n` (bounded, `what` names it).
 */
export function progressOf (count: () => number, what: string) {
  const waiting = new Set<() => void>()
  return {
    finished (): void {
      for (const check of waiting) check()
    },
    more (n: number, ms = 10_000): Promise<void> {
      const target = count() + n
      return within(new Promise<void>((resolve) => {
        const check = () => {
          if (count() < target) return
          waiting.delete(check)
          resolve()
        }
        waiting.add(check)
        check()
      }), ms, `${n} more ${what} through the load balancer`)
    },
  }
}

/**
 * Keep-alive load: `fast + slow` loops, each one request at a time over a
 * pooled keep-alive connection, until `stop()`. Failures are counted, never thrown.
 */
export function startLoad (options: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.fast + options.slow + (options.posts ?? 0) })
  const report: LoadReport = { requests: 0, ok: 0, failures: {}, failed: 0, outcomes: emptyCounts() }
  const progress = progressOf(() => report.requests, 'requests')
  let stopping = false
  let id = 0
  const where = 'port' in options.target ? { port: options.target.port } : { socketPath: options.target.socketPath }

  // The bench's client and classifier: the same request, the same outcome classes.
  const once = async (path: string, method: 'GET' | 'POST') => {
    const body = method === 'POST' ? JSON.stringify({ items: [{ qty: 1, price: 2 }] }) : undefined
    const attempt = await send({ agent, ...where, path, method, body, id: id++, kind: `${method} ${path}`, timeout: options.requestTimeoutMs ?? 10_000, headers: { host: 'app' } })
    report.requests++
    report.outcomes[classify(attempt)]++
    const status = attempt.status
    if (status !== null && status >= 200 && status < 300) {
      report.ok++
    } else {
      const reason = status !== null ? `status ${status}` : attempt.error ?? 'unknown'
      report.failed++
      report.failures[reason] = (report.failures[reason] ?? 0) + 1
    }
    progress.finished()
  }

  const loop = async (path: string, pauseMs: number, method: 'GET' | 'POST' = 'GET') => {
    while (!stopping) {
      await once(path, method)
      if (pauseMs > 0) await delay(pauseMs)
    }
  }
  const loops = [
    ...Array.from({ length: options.fast }, () => loop('/', options.pauseMs)),
    ...Array.from({ length: options.slow }, () => loop(`/slow?ms=${options.slowMs}`, 0)),
    ...Array.from({ length: options.posts ?? 0 }, () => loop(`/slow?ms=${options.slowMs}`, 0, 'POST')),
  ]

  return {
    get done () { return report.requests },
    more: progress.more,
    stop: async () => {
      stopping = true
      await within(Promise.all(loops), (options.requestTimeoutMs ?? 10_000) + 1000, 'the load to stop')
      agent.destroy()
      return { ...report, failures: { ...report.failures }, outcomes: { ...report.outcomes } }
    },
  }
}
