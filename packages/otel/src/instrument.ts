import { metrics, trace, SpanStatusCode, type Attributes, type MeterProvider, type Span, type TracerProvider } from '@opentelemetry/api'
import type { Graceful, GracefulEvents } from '@graceful/core'
import { metricNames, phases, type Phase } from './names.js'

export interface GracefulOtelOptions {
  /** Where the instruments live. @default the global one (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider
  /** Where the shutdown span goes. @default the global one (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider
  /** Added to every data point and to the span, e.g. `{ 'graceful.instance': 'api' }` with several instances. @default {} */
  attributes?: Attributes
}

const scope = '@graceful/otel'

/**
 * Metrics and a trace for one instance: gauges for the phase, in-flight
 * requests, open connections and time left; counters for draining 503s, cut
 * requests and hook failures; histograms of the shutdown and each phase; a
 * `graceful.shutdown` span with an event per phase. Returns `stop`, which
 * removes every listener and callback (and ends a span still open).
 *
 * @example
 * import { instrumentGraceful } from '@graceful/otel'
 * instrumentGraceful(app.graceful)   // after the OpenTelemetry SDK is started
 */
export function instrumentGraceful (graceful: Graceful, options: GracefulOtelOptions = {}): () => void {
  const base = { ...options.attributes }
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(scope)
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(scope)

  const phase = meter.createObservableGauge(metricNames.phase, { description: 'The current phase of the graceful lifecycle: 1, and 0 for the others' })
  const inFlight = meter.createObservableGauge(metricNames.inFlight, { description: 'Requests in flight', unit: '{request}' })
  const connections = meter.createObservableGauge(metricNames.connections, { description: 'Open connections', unit: '{connection}' })
  const timeLeft = meter.createObservableGauge(metricNames.timeLeft, { description: 'Time left of the shutdown budget', unit: 's' })
  const rejected = meter.createCounter(metricNames.rejected, { description: 'Requests answered with the draining 503', unit: '{request}' })
  const cut = meter.createCounter(metricNames.cut, { description: 'Requests cut at the drain deadline', unit: '{request}' })
  const hookFailures = meter.createCounter(metricNames.hookFailures, { description: 'Hooks that failed or timed out', unit: '{hook}' })
  const shutdownDuration = meter.createHistogram(metricNames.shutdownDuration, { description: 'From the trigger to the end of the release hooks', unit: 's' })
  const phaseDuration = meter.createHistogram(metricNames.phaseDuration, { description: 'Each phase of a shutdown', unit: 's' })

  let current: Phase = graceful.state === 'accepting' ? 'accepting' : graceful.state === 'closed' ? 'closed' : 'drain'
  let span: Span | undefined

  const observe = (result: Parameters<Parameters<typeof meter.addBatchObservableCallback>[0]>[0]): void => {
    const stats = graceful.stats()
    const now: Phase = current === 'accepting' && stats.paused ? 'paused' : current
    for (const name of phases) result.observe(phase, name === now ? 1 : 0, { ...base, 'graceful.phase': name })
    result.observe(inFlight, stats.inFlight, base)
    result.observe(connections, stats.sockets, { ...base, 'graceful.connection.kind': 'socket' })
    result.observe(connections, stats.sessions, { ...base, 'graceful.connection.kind': 'http2_session' })
    result.observe(connections, stats.upgraded, { ...base, 'graceful.connection.kind': 'upgraded' })
    // From the trigger on (0 once closed, so no stale value lingers); never while accepting: no budget runs then.
    if (now !== 'accepting' && now !== 'paused') result.observe(timeLeft, now === 'closed' ? 0 : (stats.timeLeft ?? 0) / 1000, base)
  }
  const observed = [phase, inFlight, connections, timeLeft]
  meter.addBatchObservableCallback(observe, observed)

  const listeners: { [E in keyof GracefulEvents]?: (...args: GracefulEvents[E]) => void } = {
    draining: (info) => {
      current = 'delay'
      span = tracer.startSpan('graceful.shutdown', { attributes: { ...base, 'graceful.trigger': info.trigger } })
      span.addEvent('draining', { 'graceful.in_flight': info.inFlight, 'graceful.sockets': info.sockets })
    },
    drain: (info) => {
      current = 'drain'
      span?.addEvent('drain', { 'graceful.in_flight': info.inFlight, 'graceful.sockets': info.sockets, 'graceful.tasks': info.tasks })
    },
    drained: () => {
      current = 'release'
      span?.addEvent('drained')
    },
    timeout: (info) => {
      current = 'release'
      span?.addEvent('timeout', { 'graceful.holding': info.holding, 'graceful.cut': info.cut.length })
      for (const request of info.cut) cut.add(1, { ...base, 'graceful.cut.action': request.action })
    },
    hookError: (result) => {
      hookFailures.add(1, { ...base, 'graceful.hook.name': result.name, 'graceful.hook.kind': result.kind, 'graceful.hook.status': result.status })
      span?.addEvent('hook_error', { 'graceful.hook.name': result.name, 'graceful.hook.kind': result.kind, 'graceful.hook.status': result.status })
    },
    closed: (summary) => {
      current = 'closed'
      const { durations, requests } = summary
      if (requests.rejected > 0) rejected.add(requests.rejected, base)
      shutdownDuration.record(durations.total / 1000, { ...base, 'graceful.outcome': summary.outcome })
      phaseDuration.record(durations.readinessDelay / 1000, { ...base, 'graceful.phase': 'delay' })
      phaseDuration.record(durations.drain / 1000, { ...base, 'graceful.phase': 'drain' })
      phaseDuration.record(durations.release / 1000, { ...base, 'graceful.phase': 'release' })
      if (!span) return
      span.addEvent('closed', { 'graceful.outcome': summary.outcome })
      span.setAttributes({
        'graceful.outcome': summary.outcome,
        'graceful.exit_code': summary.exitCode,
        'graceful.requests.completed': requests.completed,
        'graceful.requests.rejected': requests.rejected,
        'graceful.requests.cut': requests.cut,
        'graceful.duration.delay_ms': durations.readinessDelay,
        'graceful.duration.drain_ms': durations.drain,
        'graceful.duration.release_ms': durations.release,
      })
      // A cut, a failed hook or a forced exit is what an operator wants to find.
      if (summary.outcome !== 'clean') span.setStatus({ code: SpanStatusCode.ERROR, message: summary.outcome })
      span.end()
      span = undefined
    },
  }
  for (const [event, listener] of Object.entries(listeners)) graceful.on(event as keyof GracefulEvents, listener as never)

  return function stopInstrumenting () {
    for (const [event, listener] of Object.entries(listeners)) graceful.off(event as keyof GracefulEvents, listener as never)
    meter.removeBatchObservableCallback(observe, observed)
    span?.end()
    span = undefined
  }
}
