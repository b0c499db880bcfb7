import { describe, expect, it, vi } from 'vitest'
import { drainWhileStreaming, endTheStream, expectServedInTheGraceWindow, startApp } from '../helpers/app.js'
import { openConnection, patience, tryConnect, within } from '@graceful/test-kit'
import { targets } from '../helpers/targets.js'


describe.each(targets)('drain — $name', (target) => {
  it('serves normally on a keep-alive connection while accepting, with no process warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      await using h = await startApp(target)
      await using conn = await openConnection(h.app.port)
      expect(await conn.request('/fast')).toMatchObject({ status: 200, body: 'fast' })
      const second = await conn.request('/fast')
      expect(second).toMatchObject({ status: 200, body: 'fast' })
      expect(second.headers.connection?.toLowerCase()).toBe('keep-alive')
      expect(h.app.graceful.state).toBe('accepting')
      expect(h.app.graceful.stats().sockets).toBe(1)
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })

  it('lets the in-flight request finish with 200 and Connection: close, then FINs its socket', async () => {
    await using h = await startApp(target)
    await using busy = await openConnection(h.app.port)
    expect((await busy.request('/fast')).headers.connection?.toLowerCase()).toBe('keep-alive')
    const response = busy.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    expect(h.app.graceful.state).toBe('draining')
    expect(h.app.graceful.signal.aborted).toBe(true)
    h.slow.resolve()

    const res = await response
    expect(res.status).toBe(200)
    expect(res.body).toBe('slow')
    expect(res.headers.connection).toBe('close')
    await expect(within(busy.ended, 5000, 'FIN')).resolves.toBe('fin')
    const result = await within(summary, 5000, 'the summary')
    expect(result.outcome).toBe('clean')
    expect(result.requests).toEqual({ completed: 1, rejected: 0, cut: 0 })
    expect(h.app.graceful.state).toBe('closed')
    await vi.waitFor(() => expect(h.app.closeHookRuns(), "the framework's close lifecycle").toBe(1), patience)
  })

  it('hands a route failing during the drain to the framework error handler, with Connection: close', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    const failing = conn.request('/fail-later')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    h.slow.resolve()
    const res = await failing
    expect(res.status).toBe(500)
    expect(res.headers.connection).toBe('close')
    expect(h.app.errors).toMatchObject([{ message: 'late' }])
    await expect(within(conn.ended, 5000, 'FIN after the 500')).resolves.toBe('fin')
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('ends idle keep-alive sockets at once, while a request is still in flight', async () => {
    await using h = await startApp(target)
    await using idle = await openConnection(h.app.port)
    await using busy = await openConnection(h.app.port)
    const first = await idle.request('/fast')
    expect(first.status).toBe(200)
    expect(first.headers.connection?.toLowerCase()).toBe('keep-alive')
    const held = busy.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    await expect(within(idle.ended, 5000, 'FIN on the idle socket')).resolves.toBe('fin')
    expect(busy.finReceived).toBe(false)
    expect(h.app.graceful.stats().inFlight).toBe(1)

    h.slow.resolve()
    expect((await held).status).toBe(200)
    await within(summary, 5000, 'the summary')
  })

  it('serves a request racing the drain on a just-reused keep-alive connection, with Connection: close, then FINs', async () => {
    await using h = await startApp(target)
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    // The client reuses the connection the moment the drain starts: the keep-alive race.
    // It sent its request before it could know: served, never a 503 (a proxy would not retry it).
    const summary = h.app.graceful.shutdown()
    await expectServedInTheGraceWindow(conn, summary)
    expect(h.app.errors).toEqual([])
  })

  it('serves a racing request inside the budget: one still running at the deadline gets the 503 there', async () => {
    await using h = await startApp(target, { timeout: 600, releaseTimeout: 100 })
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).status).toBe(200)
    const summary = h.app.graceful.shutdown()
    const held = conn.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the racing request to be served').toBe(1), patience)
    const result = await within(summary, 5000, 'the summary')
    const res = await held
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    expect(result.cut).toEqual([expect.objectContaining({ url: '/slow', action: 'rejected', ageKnown: true })])
  })

  it('counts a connection that has not delivered a complete request as idle (slowloris)', async () => {
    await using h = await startApp(target)
    await using partial = await openConnection(h.app.port)
    await using busy = await openConnection(h.app.port)
    partial.write('GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const held = busy.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    await expect(within(partial.ended, 5000, 'FIN on the partial connection')).resolves.toBe('fin')
    h.slow.resolve()
    await held
    expect((await within(summary, 5000, 'the summary')).outcome).toBe('clean')
  })

  it('refuses new connections once the drain starts', async () => {
    await using h = await startApp(target)
    await using busy = await openConnection(h.app.port)
    const held = busy.request('/slow')
    await vi.waitFor(() => expect(h.app.graceful.stats().inFlight, 'the request to arrive').toBe(1), patience)

    const summary = h.app.graceful.shutdown()
    await vi.waitFor(() => expect(h.app.graceful.stats().state, 'draining').toBe('draining'), patience)
    expect(await tryConnect(h.app.port)).toBe('ECONNREFUSED')
    h.slow.resolve()
    await held
    await within(summary, 5000, 'the summary')
  })

  it('answers a new request on an existing connection with 503, Connection: close and Retry-After', async () => {
    await using h = await startApp(target, { retryAfter: 7 })
    await using conn = await openConnection(h.app.port)
    expect((await conn.request('/fast')).headers.connection?.toLowerCase()).toBe('keep-alive')
    // A streaming response whose headers went out before the drain keeps this connection open.
    const { summary } = await drainWhileStreaming(h, conn)
    expect(h.app.graceful.stats().state).toBe('draining')
    conn.send('/fast')
    await endTheStream(h)

    const stream = await conn.response()
    expect(stream.status).toBe(200)
    expect(stream.body).toBe('start\nend\n')
    const rejected = await conn.response()
    expect(rejected.status).toBe(503)
    expect(rejected.headers.connection).toBe('close')
    expect(rejected.headers['retry-after']).toBe('7')
    expect(rejected.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(rejected.body)).toMatchObject({ statusCode: 503, code: 'ERR_GRACEFUL_DRAINING' })
    await expect(within(conn.ended, 5000, 'FIN')).resolves.toBe('fin')
    const result = await within(summary, 5000, 'the summary')
    expect(result.requests).toEqual({ completed: 1, rejected: 1, cut: 0 })
    expect(h.app.errors).toEqual([])
  })
})
