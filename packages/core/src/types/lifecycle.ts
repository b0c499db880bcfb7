import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'

/** `accepting → draining → closed`, one way only. */
export type State = 'accepting' | 'draining' | 'closed'

/**
 * The lifecycle inside, one way only: `accepting → delay → drain → closed`.
 * `delay` is the readiness delay (serving normally, with `Connection: close`);
 * `drain` starts when the listeners close; `closed` when the drain is over
 * (release hooks run then). Users see `delay` and `drain` as `draining`
 * ({@link State}); the connection tracker goes through the same phases.
 */
export type Phase = 'accepting' | 'delay' | 'drain' | 'closed'

/** What started the shutdown: a signal name, `'shutdown'`, `'close'`, or your own label. */
export type Trigger = string

/** A request as every adapter sees it underneath: node:http or the HTTP/2 compatibility API. */
export type AnyRequest = IncomingMessage | Http2ServerRequest
/** The response paired with {@link AnyRequest}. */
export type AnyResponse = ServerResponse | Http2ServerResponse

/** A pino-shaped logger. Fastify's `app.log` and pino itself fit; so does `console`. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}
export type LogFn = (fields: Record<string, unknown>, message: string) => void

/** A request still unfinished when the drain deadline came. */
export interface CutRequest {
  method: string
  url: string
  /**
   * Milliseconds since the request arrived, when `ageKnown`; otherwise since
   * the shutdown started (a lower bound): graceful records nothing per request
   * while accepting, so a request already in flight at the trigger has no known
   * arrival time.
   */
  ageMs: number
  /** True when `ageMs` counts from the request's arrival (it arrived after the trigger, or over HTTP/2). */
  ageKnown: boolean
  /** `'rejected'`: it got a real 503; `'destroyed'`: its response had started, the socket was destroyed. */
  action: 'rejected' | 'destroyed'
}

/** The outcome of one release or notify hook. */
export interface HookResult {
  name: string
  kind: 'notify' | 'release'
  status: 'ok' | 'error' | 'timeout' | 'skipped'
  durationMs: number
  error?: unknown
}

/** What `shutdown()` resolves to. Every caller gets the same object. */
export interface ShutdownSummary {
  trigger: Trigger
  /** `clean`: drained and every hook succeeded; `cut`: the deadline cut work; `failed`: a hook failed; `forced`: a second signal. */
  outcome: 'clean' | 'cut' | 'failed' | 'forced'
  /** The exit code a signal-initiated shutdown exits with (see the README's table). */
  exitCode: number
  durations: {
    /** Serving with `Connection: close` while the load balancer catches up. */
    readinessDelay: number
    /** From closing the listeners until every request, socket and task was done (or cut). */
    drain: number
    /** Release hooks. */
    release: number
    total: number
  }
  /** The readiness delay actually used, and why it ended (`quiet` or `max` for a quiet period). */
  readinessDelay: DelayReport
  requests: {
    /** Requests that finished normally after the trigger. */
    completed: number
    /** Requests answered with the draining 503. */
    rejected: number
    /** Requests cut at the deadline (see `cut`). */
    cut: number
  }
  cut: CutRequest[]
  /** What was still holding the drain at its deadline, empty after a clean drain. */
  holding: string[]
  hooks: HookResult[]
}

/** Live counts, also attached to every event. */
export interface Stats {
  state: State
  inFlight: number
  sockets: number
  sessions: number
  upgraded: number
  tasks: number
  /** Milliseconds left of the budget, or `null` while accepting. */
  timeLeft: number | null
  /** The release hook now running, if any. */
  hook: string | null
  /** Set while `pause()`d (maintenance mode): readiness answers 503, everything else is served. */
  paused: PauseInfo | null
}

/** A pause: why, and since when (a `Date.now()` value). */
export interface PauseInfo {
  reason: string | null
  since: number
}

/** Events of a graceful instance, with their payloads. */
export interface GracefulEvents {
  /** The first trigger: readiness is now not-ready. `readinessDelay`: what the delay will wait (ms, or the quiet period; 0 when skipped). */
  draining: [info: Stats & { trigger: Trigger, readinessDelay: number | ResolvedQuietPeriod }]
  /** Listeners are closed and idle sockets ended, after the readiness delay: how long it took and why it ended. */
  drain: [info: Stats & { readinessDelay: DelayReport }]
  /** Every request, socket and task is done. */
  drained: [info: Stats]
  /** The drain deadline: what still held the drain, and the requests cut. */
  timeout: [info: Stats & { holding: string[], cut: CutRequest[] }]
  /** A notify or release hook threw or timed out. */
  hookError: [result: HookResult]
  /** Everything is done; the summary `shutdown()` resolves to. */
  closed: [summary: ShutdownSummary]
  /** A reload handed over: the new process is ready; this one now drains. */
  reload: [result: Extract<ReloadResult, { ok: true }>]
  /** A reload failed: this process keeps serving. Why, and how the new process ended. */
  reloadFailed: [result: Extract<ReloadResult, { ok: false }>]
  /** `pause()`: readiness now answers 503 (maintenance mode); nothing drains. */
  paused: [info: Stats & { reason: string | null }]
  /** `resume()`: readiness follows the instance again; how long the pause lasted. */
  resumed: [info: Stats & { reason: string | null, pausedMs: number }]
}

/** What `graceful.reload()` resolves to (it never rejects). */
export type ReloadResult =
  | {
    ok: true
    /** The new process, now serving. */
    pid: number
    /** From the reload request until the new process was ready. */
    durationMs: number
  }
  | {
    ok: false
    /** Why, in words: the new process exited, was not ready in time, or reload does not apply here. */
    reason: string
    /** The new process, if one was started. */
    pid: number | null
    /** Its exit code, or the signal that ended it (`SIGKILL` after the timeout). */
    code: number | null
    signal: NodeJS.Signals | null
    durationMs: number
  }

/** Passed to notify hooks and tracked tasks. */
export interface DrainContext {
  /** Aborts at the drain deadline: stop now, or be cut. */
  signal: AbortSignal
  /** `Date.now()` value of the drain deadline. */
  deadline: number
}

/** A notify hook: told when draining starts (close WebSockets with 1001, end SSE, stop consumers). */
export type NotifyHook = (context: DrainContext) => unknown

/** A release hook: a function, or a resource with `close()` or `Symbol.asyncDispose`. */
export type Releasable =
  | ((signal: AbortSignal) => unknown)
  | { close: () => unknown }
  | { [Symbol.asyncDispose]: () => PromiseLike<void> }
  | { [Symbol.dispose]: () => void }

export interface HookOptions {
  /** Shown in logs and in the summary. @default the function's or class's name */
  name?: string
  /** This hook's own limit, within what is left of the budget. @default the rest of the budget */
  timeout?: number
}

/** A decision for one request, made by the adapters' gate (`@graceful/core/adapter`). */
export type GateDecision = 'serve' | 'reject'

/** The draining 503, for adapters that answer through their framework's reply. */
export interface Rejection {
  statusCode: 503
  headers: Record<string, string>
  body: string
}

/** A health answer, ready to send. */
export interface HealthResponse {
  statusCode: 200 | 503
  body: string
  headers: Record<string, string>
}

/**
 * `readinessDelay` as a quiet period: serve until no new connection and no new
 * request (health probes aside) has arrived for `quiet` ms, waiting at least
 * `min` and at most `max` ms after the trigger.
 * @example createGraceful({ readinessDelay: { quiet: 1000, min: 500, max: 10_000 } })
 */
export interface QuietPeriod {
  /** Silence that ends the delay: no new connection or request for this long. */
  quiet: number
  /** The delay lasts at least this long. @default 0 */
  min?: number
  /** The delay lasts at most this long, whatever arrives. @default (timeout − releaseTimeout) / 2 */
  max?: number
}

/** A {@link QuietPeriod} after defaults. */
export interface ResolvedQuietPeriod { quiet: number, min: number, max: number }

/** Why the readiness delay ended: silence, its `max`, a fixed delay, none at all, or a forced shutdown. */
export type DelayEnd = 'quiet' | 'max' | 'fixed' | 'none' | 'forced'

/** The readiness delay as it happened, in the summary and the `drain` event. */
export interface DelayReport {
  /** Milliseconds from the trigger to the drain start. */
  ms: number
  endedBy: DelayEnd
}
