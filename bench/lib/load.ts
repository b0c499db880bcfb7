import { setTimeout as sleep } from 'node:timers/promises'
import { createAgent, now, send, type Attempt } from '@graceful/test-kit/client'

export interface LoadOptions {
  port: number
  /** Closed-loop workers asking for the fast route `/`. */
  fast: number
  /** Closed-loop workers asking for `/slow?ms=N`, N drawn from `slowMs`. */
  slow: number
  /** Range of N for the slow route. @default [100, 600] */
  slowMs?: readonly [number, number]
  /** Hard cap on requests. */
  maxRequests: number
  /** Hard cap on time: the load stops by itself then. */
  maxDurationMs: number
  /** Per-request limit. @default 15_000 */
  requestTimeout?: number
  /** Pause of a worker after an error, so a dead server is not hammered. @default 20 */
  backoffMs?: number
}

export interface Load {
  /** Every attempt finished so far, in completion order. */
  readonly attempts: readonly Attempt[]
  /** Requests sent and not yet finished. */
  readonly inFlight: number
  /** Ask the workers to stop, wait for them, release the connections. */
  stop: () => Promise<Attempt[]>
}

/**
 * Closed-loop keep-alive load: each worker sends its next request as soon as
 * the last one finished, on a shared keep-alive agent with one socket per
 * worker. Bounded in count and time whatever the server does.
 */
export function startLoad (options: LoadOptions): Load {
  const { port, fast, slow, maxRequests, maxDurationMs } = options
  const [slowMin, slowMax] = options.slowMs ?? [100, 600]
  const timeout = options.requestTimeout ?? 15_000
  const backoff = options.backoffMs ?? 20
  const agent = createAgent(fast + slow)
  const attempts: Attempt[] = []
  const deadline = now() + maxDurationMs
  const random = lcg(0x5eed)
  let nextId = 1
  let inFlight = 0
  let stopped = false

  async function worker (kind: 'fast' | 'slow'): Promise<void> {
    while (!stopped && nextId <= maxRequests && now() < deadline) {
      const id = nextId++
      const path = kind === 'fast' ? '/' : `/slow?ms=${Math.round(slowMin + random() * (slowMax - slowMin))}`
      inFlight++
      const attempt = await send({ agent, port, path, id, kind, timeout })
      inFlight--
      attempts.push(attempt)
      if (attempt.error !== null) await sleep(backoff)
    }
  }

  const workers = [
    ...Array.from({ length: fast }, () => worker('fast')),
    ...Array.from({ length: slow }, () => worker('slow')),
  ]

  return {
    attempts,
    get inFlight () { return inFlight },
    stop: async () => {
      stopped = true
      await Promise.all(workers)
      agent.destroy()
      return attempts
    },
  }
}

/** A small seeded generator: the same mix of slow durations on every run. */
function lcg (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
}
