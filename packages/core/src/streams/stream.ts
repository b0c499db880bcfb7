import { debuglog } from 'node:util'
import { invalidOption } from '../support/errors.js'
import { writeAnswer } from '../answers/answer.js'
import { writtenHeader } from '../support/node-internals.js'
import type { AnyResponse, Rejection } from '../types/lifecycle.js'
import { closeSpread, spreadWindow } from './spread.js'
import type { Spread } from '../types/options.js'
import type { StreamOptions, StreamTarget } from '../types/handle.js'

// The streaming-response helper: `graceful.stream(res)`. A server-sent-events
// stream (or any long streaming body) never ends on its own, so the drain
// would wait for the deadline and then cut it. Registered here, it is ended
// cleanly the moment the drain starts: one listener on the drain signal for
// every stream, none per stream on the hot path.

const debug = debuglog('graceful')

interface Entry {
  options: StreamOptions
  controller: AbortController
}

/**
 * Registry of the streams one instance ends at the drain start. `stream()`
 * returns a signal that aborts when the drain ended the stream or the client
 * went away: stop producing then.
 */
export function createStreams (drainingSignal: () => AbortSignal, rejection: Rejection, retryAfterSeconds: number, goodbye: { spread?: Spread, deadline?: () => number } = {}) {
  const open = new Map<StreamTarget, Entry>()
  // Asked for with the first stream: an instance that never streams has no
  // drain signal to abort (aborting one costs ~0.5 ms of cold code at the trigger).
  let draining: AbortSignal | undefined

  function watchDrain (): AbortSignal {
    if (draining) return draining
    const signal = draining = drainingSignal()
    signal.addEventListener('abort', () => {
      // A spread goodbye (spread.ts): each stream gets its slot in the window.
      const streams = [...open.keys()]
      const window = spreadWindow(streams.length, goodbye.spread, (goodbye.deadline?.() ?? Infinity) - Date.now())
      debug('streams: ending %d stream(s) over %d ms', streams.length, window)
      void closeSpread(streams, window, (target) => {
        const entry = open.get(target)
        if (entry) endStream(target, entry, signal.reason)
      })
    }, { once: true })
    return signal
  }

  function endStream (target: StreamTarget, entry: Entry, reason: unknown): void {
    open.delete(target)
    entry.controller.abort(reason)
    if (target.writableEnded || target.destroyed) return
    const response = asResponse(target)
    // Registered before any byte was sent: the client gets the draining 503 (it may retry).
    if (response && !response.headersSent) {
      return writeAnswer(response.req, response, rejection)
    }
    try {
      entry.options.onDrain?.(target)
    } catch (error) {
      debug('streams: onDrain threw %o', error)
    }
    if (target.writableEnded || target.destroyed) return
    const sse = entry.options.sse ?? isEventStream(response)
    if (sse) target.write(`retry: ${entry.options.retry ?? retryAfterSeconds * 1000}\n\n`)
    target.end()
  }

  /** Ends `target` cleanly when the drain starts. */
  return function stream (target: StreamTarget, options: StreamOptions = {}): AbortSignal {
    if (typeof target?.end !== 'function' || typeof target.once !== 'function') throw invalidOption('stream', 'a response or a writable stream', target)
    if (options.retry !== undefined && !(Number.isInteger(options.retry) && options.retry >= 0)) {
      throw invalidOption('stream.retry', 'a non-negative integer of milliseconds', options.retry)
    }
    if (options.onDrain !== undefined && typeof options.onDrain !== 'function') throw invalidOption('stream.onDrain', 'a function', options.onDrain)
    const existing = open.get(target)
    if (existing) return existing.controller.signal
    const drain = watchDrain()
    const entry: Entry = { options: { ...options }, controller: new AbortController() }
    open.set(target, entry)
    target.once('close', () => {
      if (open.delete(target)) entry.controller.abort(new Error('stream closed'))
    })
    // Registered after the drain started (a request accepted during the readiness
    // delay): end it on the next turn, once the caller has written its headers.
    if (drain.aborted) setImmediate(() => { if (open.has(target)) endStream(target, entry, drain.reason) })
    return entry.controller.signal
  }
}

function asResponse (target: StreamTarget): AnyResponse | null {
  return 'headersSent' in target && typeof (target as AnyResponse).getHeader === 'function' ? target as unknown as AnyResponse : null
}

function isEventStream (response: AnyResponse | null): boolean {
  if (!response) return false
  const type = response.getHeader('content-type') ??
    // Passed straight to `writeHead()`: only in the head node:http wrote (read at the drain only).
    writtenHeader(response, 'content-type')
  return typeof type === 'string' && /^text\/event-stream\b/i.test(type.trim())
}
