import type { AppSpec, RunningApp, Target } from './target.js'
import { expect, vi } from 'vitest'
import { deferred, inProcess, patience, within, type Deferred, type RawConnection } from '@graceful/test-kit'
import type { GracefulOptions, ShutdownSummary } from '@graceful/core'

export interface Harness {
  app: RunningApp
  /** Opened by the test to let held `/slow` requests answer. */
  slow: Deferred
  /** Opened by the test to let held `/stream` responses end. */
  stream: Deferred
}

/** Starts `target` with held routes; `await using` tears it down. */
export async function startApp (target: Target, options: GracefulOptions = {}, spec: Omit<AppSpec, 'options'> = {}): Promise<Harness & AsyncDisposable> {
  const slow = deferred()
  const stream = deferred()
  const app = await target.start({
    options: { ...inProcess, ...options },
    slow: () => slow.promise,
    stream: () => stream.promise,
    ...spec,
  })
  return {
    app,
    slow,
    stream,
    [Symbol.asyncDispose]: async () => {
      slow.resolve()
      stream.resolve()
      await app[Symbol.asyncDispose]()
    },
  }
}

/**
 * Starts the drain while `conn` is busy with a streaming response begun before it, so that a
 * request pipelined behind the stream arrives after the grace window (a busy connection gets
 * none) and meets the draining 503. Send that request, then call {@link endTheStream}.
 * The summary comes wrapped: awaiting it here would wait for the stream.
 */
export async function drainWhileStreaming (h: Harness, conn: RawConnection): Promise<{ summary: Promise<ShutdownSummary> }> {
  const before = conn.bytesReceived
  conn.send('/stream')
  await vi.waitFor(() => expect(conn.bytesReceived, 'the stream to start').toBeGreaterThan(before), patience)
  return { summary: h.app.graceful.shutdown() }
}

/** Once the request pipelined behind the stream reached the app, lets the stream end (its response comes first). */
export async function endTheStream (h: Harness): Promise<void> {
  await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the pipelined request to arrive').toBe(2), patience)
  h.stream.resolve()
}

/**
 * The grace window: a request sent on `conn` as the drain starts (before the client could know)
 * is served, with Connection: close, then the connection gets its FIN, and the summary counts
 * it completed.
 */
export async function expectServedInTheGraceWindow (conn: RawConnection, summary: Promise<ShutdownSummary>): Promise<void> {
  const res = await conn.request('/fast')
  expect(res).toMatchObject({ status: 200, body: 'fast' })
  expect(res.headers.connection).toBe('close')
  await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
  expect((await within(summary, 5000, 'the summary')).requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
}
