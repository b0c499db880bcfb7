import type {
  Server, ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream, sendUnaryData,
} from '@grpc/grpc-js'
import type { CutRequest } from '@graceful/core'

// Call tracking. grpc-js has no per-call hook a server can add after it was
// built (server interceptors are a constructor option), so the handlers are
// wrapped where they are registered: `server.register()`, which `addService()`
// calls, for services added later; the server's handler map for those added
// before `attach()`.

/** grpc-js's four handler kinds. */
export type CallType = 'unary' | 'clientStream' | 'serverStream' | 'bidi'

/** The call object a handler gets, whatever its kind. */
export type ServerCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>

/** One call in flight. */
export interface GrpcCall {
  /** `/package.Service/Method` */
  path: string
  type: CallType
  /** The call object your handler got (`ServerWritableStream`, `ServerDuplexStream`, …). */
  call: ServerCall
  /** `Date.now()` when it arrived. */
  start: number
}

type AnyHandler = (call: ServerCall, callback?: sendUnaryData<unknown>) => void
interface HandlerEntry { func: AnyHandler, type: CallType }

/** A server-streaming or bidirectional call: what `onDrain` is told about. */
export interface StreamingCall extends GrpcCall {
  type: 'serverStream' | 'bidi'
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>
}

/**
 * Called for every call as it starts, with a promise that settles when it
 * ends (status sent, or cancelled), and a function that ends it with
 * `UNAVAILABLE` (the deadline's cut).
 */
export type OnCall = (entry: GrpcCall, done: Promise<void>, endUnavailable: () => void) => void

// What a call cut at the deadline ends with: UNAVAILABLE (14), which clients
// and their default retry policies treat as "try another server". A destroyed
// session would end it CANCELLED, which a client cannot tell from its own
// cancel. The number, not grpc-js's `status` enum: grpc-js is only a type import here.
const unavailable = { code: 14, details: 'the server is shutting down' }

/** Wraps every handler of `server`, present and future. Returns `unwrap`. */
export function wrapHandlers (server: Server, onCall: OnCall, onRegister: (path: string) => void): () => void {
  const wrapped = new Map<AnyHandler, AnyHandler>()
  const wrap = (path: string, type: CallType, func: AnyHandler): AnyHandler => {
    const inner = function gracefulGrpcCall (call: ServerCall, callback?: sendUnaryData<unknown>) {
      let finish!: () => void
      const done = new Promise<void>((resolve) => { finish = resolve })
      const ended = () => finish()
      const events = call as unknown as NodeJS.EventEmitter
      events.once('cancelled', ended)
      if (callback) {
        let answered = false
        const answer = function gracefulCallback (...args: Parameters<sendUnaryData<unknown>>) {
          // Once cut with UNAVAILABLE, the handler's own late answer goes nowhere.
          if (answered) return
          answered = true
          try {
            callback(...args)
          } finally {
            finish()
          }
        }
        onCall({ path, type, call, start: Date.now() }, done, () => { answer(unavailable) })
        return func(call, answer)
      }
      // Streaming responses: the status goes out when the stream finishes (or errors).
      for (const event of ['finish', 'error', 'close']) events.once(event, ended)
      // grpc-js turns an 'error' on a server stream into its status, then ends it.
      const stream = call as ServerWritableStream<unknown, unknown>
      onCall({ path, type, call, start: Date.now() }, done, () => {
        if (!stream.writableEnded && !stream.destroyed) events.emit('error', unavailable)
      })
      return func(call)
    }
    wrapped.set(inner, func)
    return inner
  }

  // Services added after attach() come through register() (addService calls it).
  const register = server.register
  server.register = function gracefulRegister (name, handler, serialize, deserialize, type) {
    onRegister(name)
    return register.call(this, name, wrap(name, type as CallType, handler as AnyHandler) as never, serialize as never, deserialize as never, type)
  }
  // Services added before: grpc-js keeps them in a private map (1.x), read once here.
  const handlers = existingHandlers(server)
  for (const [path, entry] of handlers ?? []) {
    onRegister(path)
    entry.func = wrap(path, entry.type, entry.func)
  }

  return function unwrap () {
    server.register = register
    for (const entry of existingHandlers(server)?.values() ?? []) entry.func = wrapped.get(entry.func) ?? entry.func
  }
}

function existingHandlers (server: Server): Map<string, HandlerEntry> | undefined {
  const handlers = (server as unknown as { handlers?: unknown }).handlers
  return handlers instanceof Map ? handlers as Map<string, HandlerEntry> : undefined
}

/** How a call cut at the deadline appears in the summary: like a request, with its gRPC path as the url. */
export function cutCall (entry: GrpcCall, now: number): CutRequest {
  // On the wire a gRPC call is an HTTP/2 POST to its path.
  return { method: 'POST', url: entry.path, ageMs: now - entry.start, ageKnown: true, action: 'destroyed' }
}
