import http from 'node:http'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { SpanStatusCode } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { deferred, inProcessGraceful, listening, openConnection, patience, sendRequest, within } from '@graceful/test-kit'
import { instrumentGraceful, metricNames } from './index.js'

/** An SDK with in-memory exporters; `points(name)` flushes and returns the last export's points of one metric. */
function telemetry () {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when flushed: the test decides when a collection happens.
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })] })
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  onTestFinished(async () => {
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  })
  return {
    meterProvider,
    tracerProvider,
    spanExporter,
    async points (name: string): Promise<DataPoint<unknown>[]> {
      metricExporter.reset()
      await meterProvider.forceFlush()
      const metrics = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      return metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []
    },
  }
}

function valueOf (points: DataPoint<unknown>[], attributes: Record<string, unknown> = {}): unknown {
  return points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value
}

async function currentPhase (t: ReturnType<typeof telemetry>): Promise<unknown> {
  return (await t.points(metricNames.phase)).find((p) => p.value === 1)?.attributes['graceful.phase']
}

describe('instrumentGraceful', () => {
  it('exports the phase, live counts, 503s, cuts, hook failures, durations and a span of a real shutdown', async () => {
    const t = telemetry()
    const graceful = inProcessGraceful({ timeout: 2000, releaseTimeout: 500 })
    const stop = instrumentGraceful(graceful, { meterProvider: t.meterProvider, tracerProvider: t.tracerProvider, attributes: { 'service.name': 'api' } })
    onTestFinished(stop)
    const held = deferred()
    await using app = await listening(http.createServer(graceful.handler((_req, res) => { void held.promise.then(() => res.end('late')) })).listen(0, '127.0.0.1'))
    graceful.attach(app.server)
    onTestFinished(() => held.resolve())
    // A server nobody attached (as supertest's own): its requests during the drain get the draining 503.
    await using other = await listening(http.createServer(graceful.handler((_req, res) => { res.end('ok') })).listen(0, '127.0.0.1'))
    graceful.onClose(() => { throw new Error('db gone') }, { name: 'db' })

    expect(await currentPhase(t)).toBe('accepting')
    graceful.pause('maintenance')
    expect(await currentPhase(t)).toBe('paused')
    graceful.resume()

    await using conn = await openConnection(app.port)
    conn.send('/held')
    await vi.waitFor(() => expect(graceful.stats().inFlight).toBe(1), patience)
    const summary = graceful.shutdown('SIGTERM')
    expect(await currentPhase(t)).toBe('drain')
    expect(valueOf(await t.points(metricNames.inFlight))).toBe(1)
    expect(valueOf(await t.points(metricNames.connections), { 'graceful.connection.kind': 'socket' })).toBe(1)
    expect(valueOf(await t.points(metricNames.timeLeft))).toBeGreaterThan(0)
    expect((await sendRequest(other.port, '/late')).status).toBe(503)

    const result = await within(summary, 10_000, 'the summary')
    expect(result).toMatchObject({ outcome: 'cut', requests: { rejected: 1, cut: 1 } })
    expect(await currentPhase(t)).toBe('closed')
    expect(valueOf(await t.points(metricNames.timeLeft))).toBe(0)
    expect(valueOf(await t.points(metricNames.rejected), { 'service.name': 'api' })).toBe(1)
    expect(valueOf(await t.points(metricNames.cut), { 'graceful.cut.action': 'rejected' })).toBe(1)
    expect(valueOf(await t.points(metricNames.hookFailures), { 'graceful.hook.name': 'db', 'graceful.hook.status': 'error' })).toBe(1)
    expect(valueOf(await t.points(metricNames.shutdownDuration), { 'graceful.outcome': 'cut' })).toMatchObject({ count: 1, sum: result.durations.total / 1000 })
    for (const [phase, ms] of [['delay', result.durations.readinessDelay], ['drain', result.durations.drain], ['release', result.durations.release]] as const) {
      expect(valueOf(await t.points(metricNames.phaseDuration), { 'graceful.phase': phase }), phase).toMatchObject({ count: 1, sum: ms / 1000 })
    }

    const [span, ...others] = t.spanExporter.getFinishedSpans()
    expect(others).toEqual([])
    expect(span!.name).toBe('graceful.shutdown')
    expect(span!.events.map((e) => e.name)).toEqual(['draining', 'drain', 'timeout', 'hook_error', 'closed'])
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cut' })
    expect(span!.attributes).toMatchObject({
      'service.name': 'api', 'graceful.trigger': 'SIGTERM', 'graceful.outcome': 'cut', 'graceful.exit_code': result.exitCode,
      'graceful.requests.rejected': 1, 'graceful.requests.cut': 1,
    })
  })

  it('a clean shutdown: span status unset, no counters; stop() removes every listener and callback', async () => {
    const t = telemetry()
    const graceful = inProcessGraceful()
    const stop = instrumentGraceful(graceful, { meterProvider: t.meterProvider, tracerProvider: t.tracerProvider })
    await graceful.shutdown()
    const [span] = t.spanExporter.getFinishedSpans()
    expect(span!.events.map((e) => e.name)).toEqual(['draining', 'drain', 'drained', 'closed'])
    expect(span!.status.code).toBe(SpanStatusCode.UNSET)
    expect(await t.points(metricNames.rejected)).toEqual([])
    stop()
    const stats = vi.spyOn(graceful, 'stats')
    await t.points(metricNames.phase)
    expect(stats).not.toHaveBeenCalled()
  })
})
