import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { closeHttp2Session } from './http2-goaway.js'
import { closeAfterResponse, cutRequest, type InFlight } from './requests.js'
import { writeAnswer } from '../answers/answer.js'
import type { CutRequest, Rejection } from '../types/lifecycle.js'

export interface Http2Events {
  changed: () => void
  settled: (entry: InFlight) => void
}

/**
 * HTTP/2 sessions and their streams (compatibility API). Node gives no public
 * list of a session's open streams, so streams are tracked from their arrival
 * (one entry per stream); the HTTP/1 hot-path contract does not cover HTTP/2.
 * Sessions get GOAWAY at the drain and keep their open streams to completion;
 * at the end, sessions and their sockets are destroyed, whatever the client does.
 */
export function createHttp2Sessions (events: Http2Events, closeSession: (session: Http2Session) => void = closeHttp2Session) {
  const sessions = new Set<Http2Session>()
  const streams = new Map<Http2ServerResponse, InFlight>()
  // Cleartext HTTP/2 sockets: a client that keeps its connection after GOAWAY is destroyed at the end.
  const raw = new Set<Socket>()
  let drainStarted = false
  // Streams that arrived once the drain had begun: nghttp2 accepted them, so
  // their client opened them before it could see the final GOAWAY.
  const raced = new WeakSet<Http2ServerRequest>()

  function onSessionClose (this: Http2Session): void {
    sessions.delete(this)
    events.changed()
  }
  function onRawClose (this: Socket): void {
    raw.delete(this)
  }

  function settle (entry: InFlight): void {
    if (!streams.delete(entry.res as Http2ServerResponse)) return
    events.settled(entry)
    events.changed()
  }

  return {
    addSession (session: Http2Session): void {
      sessions.add(session)
      session.on('close', onSessionClose)
      if (drainStarted) closeSession(session)
    },
    addSocket (socket: Socket): void {
      raw.add(socket)
      socket.on('close', onRawClose)
    },
    /** A stream of the compatibility API: tracked until its response closes. */
    track (req: Http2ServerRequest, res: Http2ServerResponse): InFlight {
      const existing = streams.get(res)
      if (existing) return existing
      const entry: InFlight = { req, res, socket: null, start: Date.now(), seen: Date.now(), rejected: false, cut: false }
      streams.set(res, entry)
      if (drainStarted) raced.add(req)
      res.once('close', () => settle(entry))
      return entry
    },
    find: (res: Http2ServerResponse) => streams.get(res),
    /** The stream arrived in the drain, sent before its client could see the final GOAWAY (nghttp2 refuses the later ones). */
    inGraceWindow: (req: Http2ServerRequest) => raced.has(req),
    reject (entry: InFlight, rejection: Rejection): void {
      entry.rejected = true
      writeAnswer(entry.req, entry.res, rejection)
    },
    startDelay (): void {
      for (const entry of streams.values()) closeAfterResponse(entry.req, entry.res, closeSession)
    },
    startDrain (): void {
      drainStarted = true
      for (const session of sessions) closeSession(session)
    },
    cut (rejection: Rejection, now: number): CutRequest[] {
      const cut: CutRequest[] = []
      for (const entry of streams.values()) {
        if (entry.cut) continue
        cut.push(cutRequest(entry, now, () => {
          entry.rejected = true
          writeAnswer(entry.req, entry.res, rejection)
        }))
      }
      return cut
    },
    destroyAll (): void {
      for (const session of sessions) session.destroy()
      for (const socket of raw) socket.destroy()
    },
    entries: (): InFlight[] => [...streams.values()],
    get inFlight () { return streams.size },
    get sessions () { return sessions.size },
  }
}

export type Http2Sessions = ReturnType<typeof createHttp2Sessions>
