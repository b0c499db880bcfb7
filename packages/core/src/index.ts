// @graceful/core: the drain engine. What a user imports is here; what only
// adapters use is in `@graceful/core/adapter` (adapter.ts, which opens with a
// note for whoever writes the next adapter).
//
// A map of the source, one folder per floor; a file imports only from its own
// folder or a floor below (test/architecture.test.ts holds every file to it):
//   graceful.ts        createGraceful(): wires the floors below into one instance;
//                      adapter-view.ts: what adapters see of it
//   options/           defaults and validation (options.ts), GRACEFUL_* variables (environment.ts)
//   lifecycle/         the one state machine, accepting → delay → drain → closed (lifecycle.ts):
//                      the readiness delay (quiet-period.ts; skip-delay-on-laptop.ts),
//                      serve-or-503.ts (the one "served or 503?" decision, the adapters' gate),
//                      readiness.ts (starting, ready, paused, draining; who hears it),
//                      hooks.ts (release hooks), notify-hooks.ts, tasks.ts (track()), pause.ts,
//                      summary.ts (the summary, the exit code)
//   process/           process-side.ts (one instance's signals, reload, systemd),
//                      signals.ts (one process-wide owner, second signal, exit codes),
//                      signal-reach.ts (PID 1, npm as PID 1: SIGTERM that may never arrive),
//                      systemd.ts (sd_notify)
//   process/reload/    in-place restart: reload.ts (the old process), inherit.ts (the new one),
//                      attempt.ts (one attempt, one outcome), listen-address.ts, handover.ts,
//                      scope.ts, ready-pipe.ts, listeners.ts (sockets an integration serves)
//   connections/       tracker.ts tracks each attached server's sockets and sessions (same phases):
//                      http1.ts (+ http1-discovery.ts, http1-reuse.ts, http1-discard.ts),
//                      http2.ts + http2-goaway.ts, upgrades.ts, connection-age.ts;
//                      requests.ts (Connection: close, the deadline's cut); server-gate.ts
//                      (the 'request' listeners at the trigger); leave-idle.ts, release-server.ts
//   streams/           stream.ts (SSE), websockets.ts, spread.ts (the spread goodbye)
//   answers/           graceful's own responses: answer.ts (the one writer), rejection.ts (503),
//                      health.ts, health-port.ts (health on its own listener), control.ts
//   observing/         logger.ts, events.ts (every event, out to listeners and channels),
//                      observers.ts (listeners that throw), channels.ts (diagnostics_channel)
//   support/           errors.ts, duration.ts, timeout.ts, waiter.ts, noop.ts;
//                      node-internals.ts: every read of a private Node.js field, with its fallback;
//                      own-symbol.ts: finds a described private symbol (Node's, the frameworks')
//   types/             the ground floor, types only: lifecycle.ts (states, phases, events, summary),
//                      options.ts (every option), handle.ts (the Graceful handle and what it takes)
export { createGraceful } from './graceful.js'
export type { Graceful } from './types/handle.js'
export type {
  ControlOptions, GracefulOptions, HealthOptions, LoggerOption, NestLikeLogger, ReloadOptions, ResolvedOptions,
} from './types/options.js'
export { ErrorCodes, GracefulError, isGracefulError } from './support/errors.js'
export type { ErrorCode } from './support/errors.js'
export { ExitCodes } from './process/signals.js'
export type {
  AnyRequest, AnyResponse, CutRequest, DrainContext, GracefulEvents, HealthResponse, HookOptions, HookResult, LogFn, Logger,
  NotifyHook, PauseInfo, Releasable, ReloadResult, ShutdownSummary, State, Stats, Trigger, DelayEnd, DelayReport, QuietPeriod,
} from './types/lifecycle.js'
export type {
  AttachableServer, StreamOptions, StreamTarget, WebSocketClient, WebSocketServerLike, WebSocketsOptions,
} from './types/handle.js'
export { environmentOptions, optionsFromEnvironment } from './options/environment.js'
export { channels } from './observing/channels.js'
export type { ChannelMessage } from './observing/channels.js'
