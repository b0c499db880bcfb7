// @graceful/core: the drain engine. What a user imports is here; what only
// adapters use is in `@graceful/core/adapter` (adapter.ts, which opens with a
// note for whoever writes the next adapter).
//
// A map of the source:
//   graceful.ts      createGraceful(): wires the parts below into one instance
//   handle.ts        the user's handle (`Graceful`); adapter-view.ts: the adapters' view
//   lifecycle.ts     the one state machine, accepting → delay → drain → closed:
//                    readiness delay, drain, deadline cut, release hooks, summary
//   options.ts       defaults and validation (environment.ts: GRACEFUL_* variables)
//   quiet-period.ts  the adaptive readiness delay: serve until arrivals go quiet
// What happens to…
//   a socket         connections.ts tracks each attached server's sockets and sessions:
//                    http1.ts (keep-alive, idle FIN, the reuse grace, body discard),
//                    http2.ts + http2-goaway.ts (two-phase GOAWAY), upgrades.ts;
//                    leave-idle.ts: idle ones left to the kernel when the process exits
//   a request        nothing while accepting; at the trigger server-gate.ts takes over
//                    the server's 'request' listeners; requests.ts: Connection: close,
//                    the deadline's cut; rejection.ts + answer.ts: the 503, written once
//   a health probe   health.ts: matched on requestUrl(), answered by answer.ts;
//                    health-port.ts: health on its own listener; control.ts: pause/resume/status
//   a hook           hooks.ts: release hooks under timeout.ts's one timeout;
//                    notify hooks and track() are tasks (tasks.ts) the drain waits for
//   a signal         signals.ts: one process-wide owner, second signal forces, exit codes;
//                    signal-reach.ts warns when SIGTERM may never arrive
//   a reload         reload.ts (the old process) + inherit.ts (the new one): hand the
//                    listening sockets over; reload-attempt.ts: one attempt, one outcome;
//                    listen-address.ts: sockets claimed by address; handover.ts: UNIX paths kept;
//                    reload-scope.ts: env files, unattached listeners, the terminal; ready-pipe.ts;
//                    listeners.ts: sockets an integration serves itself (gRPC);
//                    systemd.ts: tell systemd (sd_notify through systemd-notify)
//   streams, ws      stream.ts, websockets.ts: end SSE and WebSockets at the drain start
//   maintenance      pause.ts: pause()/resume(), readiness 503 without a drain
//   observing        channels.ts: a diagnostics_channel per event; observers.ts: listeners that throw
export { createGraceful } from './graceful.js'
export type { Graceful } from './graceful.js'
export type { GracefulOptions, HealthOptions, ResolvedOptions } from './options.js'
export type { ControlOptions } from './control.js'
export type { LoggerOption, NestLikeLogger } from './logger.js'
export { ErrorCodes, GracefulError, isGracefulError } from './errors.js'
export type { ErrorCode } from './errors.js'
export { ExitCodes } from './signals.js'
export type { AttachableServer } from './connections.js'
export type {
  AnyRequest, AnyResponse, CutRequest, DrainContext, GracefulEvents, HealthResponse, HookOptions, HookResult, LogFn, Logger,
  NotifyHook, PauseInfo, Releasable, ReloadResult, ShutdownSummary, State, Stats, Trigger,
} from './types.js'
export type { StreamOptions, StreamTarget } from './stream.js'
export type { WebSocketClient, WebSocketServerLike, WebSocketsOptions } from './websockets.js'
export { environmentOptions, optionsFromEnvironment } from './environment.js'
export { channels } from './channels.js'
export type { ChannelMessage } from './channels.js'
export type { ReloadOptions } from './reload.js'
export type { DelayEnd, DelayReport, QuietPeriod } from './quiet-period.js'
