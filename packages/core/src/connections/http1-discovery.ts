import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { canReadCurrentResponse, currentResponse } from '../support/node-internals.js'

const none: readonly ServerResponse[] = []

/**
 * What an HTTP/1 connection is serving that graceful does not track yet.
 * While accepting graceful records nothing per request: at the trigger, each
 * connection's current response in node:http says what is in flight
 * (node-internals.ts). Without it (a future Node), the fallback remembers the
 * responses of each connection while accepting (`trackEarly`).
 */
export function createResponseDiscovery () {
  const fallback = !canReadCurrentResponse()
  const fallbackResponses = new Map<Socket, Set<ServerResponse>>()
  const tracked = new WeakSet<object>()

  /** The fallback's `'request'` listener: remember responses per connection. */
  function trackEarly (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    let responses = fallbackResponses.get(socket)
    if (!responses) fallbackResponses.set(socket, responses = new Set())
    responses.add(res)
    res.once('close', () => responses.delete(res))
  }

  return {
    fallback,
    trackEarly,
    /** Graceful tracks this response from now on. */
    tracked: (res: ServerResponse): void => { tracked.add(res) },
    /** Responses in flight on a socket that graceful does not track yet. */
    untracked (socket: Socket): readonly ServerResponse[] {
      if (fallback) return [...fallbackResponses.get(socket) ?? []].filter((res) => !tracked.has(res))
      const res = currentResponse(socket)
      return res && !tracked.has(res) && !res.writableFinished ? [res] : none
    },
    /** The socket closed. */
    forget: (socket: Socket): void => { if (fallback) fallbackResponses.delete(socket) },
  }
}
