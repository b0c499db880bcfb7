import type { ShutdownSummary } from '@graceful/core'
import { describe, expect, it, vi } from 'vitest'
import { disposeAfterTest, openConnection, patience, tryConnect, within } from '@graceful/test-kit'
import { heldRoutes, nextEvent, startApp } from './test-helpers.js'

// Fastify's own close behaviour, in every combination: whatever it would do on
// its own, the drain runs first and Fastify's close finds nothing left to do.
//   return503OnClosing: Fastify answers 503 from the moment close() begins,
//     even during our readiness delay, unless our drain runs before that.
//   forceCloseConnections: true destroys every connection, 'idle' (the
//     default) lets server.close() end idle ones, false waits for keepAliveTimeout.
const matrix = [true, false].flatMap((return503OnClosing) =>
  ([true, false, 'idle'] as const).flatMap((forceCloseConnections) =>
    (['app.close()', 'a signal'] as const).map((path) => ({ return503OnClosing, forceCloseConnections, path }))))

describe('Fastify close options', () => {
  it.each(matrix)('return503OnClosing: $return503OnClosing, forceCloseConnections: $forceCloseConnections, via $path', async ({ return503OnClosing, forceCloseConnections, path }) => {
    const held = heldRoutes()
    const t = await startApp({ readinessDelay: 250, retryAfter: 2 }, held.routes, { return503OnClosing, forceCloseConnections })
    disposeAfterTest(t)
    const g = t.app.graceful

    await using busy = await openConnection(t.port)
    await using idle = await openConnection(t.port)
    await using delayed = await openConnection(t.port)
    await using piped = await openConnection(t.port)
    await idle.request('/fast')
    await delayed.request('/fast')
    busy.send('/slow')
    piped.send('/stream')
    await t.received(4)
    await vi.waitFor(() => expect(piped.bytesReceived, 'the stream to start').toBeGreaterThan(0), patience)

    const draining = nextEvent(g, 'draining')
    const drain = nextEvent(g, 'drain')
    const done: Promise<unknown> = path === 'app.close()' ? t.app.close() : g.shutdown('SIGTERM')
    await draining

    // The readiness delay: still serving normally, on closing connections.
    const during = await delayed.request('/fast')
    expect(during).toMatchObject({ status: 200, body: 'fast' })
    expect(during.headers.connection).toBe('close')

    await drain
    await within(idle.ended, 5000, 'the FIN on the idle socket')
    expect(await tryConnect(t.port)).toBe('ECONNREFUSED')

    // A request pipelined behind the stream arrives during the drain: our 503, not Fastify's.
    piped.send('/fast')
    await t.received(6)
    held.stream.resolve()
    expect(await piped.response()).toMatchObject({ status: 200, body: 'start\nend\n' })
    const rejected = await piped.response()
    expect(rejected.status).toBe(503)
    expect(rejected.headers).toMatchObject({ connection: 'close', 'retry-after': '2' })
    expect(JSON.parse(rejected.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    await within(piped.ended, 5000, 'the FIN after the 503')

    held.slow.resolve()
    const answer = await busy.response()
    expect(answer).toMatchObject({ status: 200, body: 'slow', headers: { connection: 'close' } })
    await within(busy.ended, 5000, 'the FIN after the last response')

    await within(done, 5000, path)
    const summary: ShutdownSummary = await g.shutdown()
    expect(summary).toMatchObject({ outcome: 'clean', requests: { rejected: 1, cut: 0 } })
    expect(summary.hooks.map((h) => `${h.name}:${h.status}`)).toEqual(['fastify.close:ok'])
    expect(t.onCloseRuns()).toBe(1)
    expect(t.errors).toEqual([])
  })
})
