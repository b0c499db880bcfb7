// @graceful/otel: OpenTelemetry metrics and a trace for a graceful instance.
// One function, `instrumentGraceful(graceful)`: it listens to the instance's
// events (never to requests: nothing is added to the hot path) and reads
// `stats()` only when a metric reader collects.
export { instrumentGraceful, type GracefulOtelOptions } from './instrument.js'
export { metricNames, phases, type Phase } from './names.js'
