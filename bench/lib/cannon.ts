import autocannon from 'autocannon'

export interface CannonResult {
  /** Responses per second over the run. */
  rps: number
  /** Responses received. */
  total: number
  errors: number
  non2xx: number
  seconds: number
}

export interface CannonOptions {
  /** Keep-alive connections. @default 32 */
  connections?: number
  /** Run this many seconds… */
  duration?: number
  /** …or until this many responses came back. */
  amount?: number
  /** @default '/' */
  path?: string
  /** @default 'GET' */
  method?: string
  body?: string
  headers?: Record<string, string>
  /** Open loop: at most this many requests per second over all connections. */
  rate?: number
}

/**
 * autocannon against one server on 127.0.0.1: keep-alive connections, no
 * pipelining, the fast route. Rejects if the run cannot start; errors and
 * non-2xx answers are counted, and a caller treats a run with any as invalid.
 */
export async function cannon (origin: string, options: CannonOptions): Promise<CannonResult> {
  const result = await autocannon({
    url: `${origin}${options.path ?? '/'}`,
    connections: options.connections ?? 32,
    ...(options.method ? { method: options.method as 'POST' } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    pipelining: 1,
    timeout: 10,
    ...(options.rate ? { overallRate: options.rate } : {}),
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 2 }),
  })
  const seconds = result.duration
  const total = result.requests.total
  return {
    rps: total / seconds,
    total,
    errors: result.errors,
    non2xx: result.non2xx,
    seconds,
  }
}
