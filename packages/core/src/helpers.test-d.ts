import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { PassThrough } from 'node:stream'
import { describe, expectTypeOf, it } from 'vitest'
import type { WebSocketServer } from 'ws'
import { createGraceful } from './index.js'

describe('protocol helpers: public types', () => {
  it('takes a ws WebSocketServer, with a close code and reason', () => {
    const g = createGraceful()
    expectTypeOf(g.websockets).toBeCallableWith({} as WebSocketServer)
    expectTypeOf(g.websockets).toBeCallableWith({} as WebSocketServer, { code: 1012, reason: 'service restart' })
    // @ts-expect-error not a WebSocket server
    g.websockets({})
  })

  it('streams a response or a body stream and returns a signal', () => {
    const g = createGraceful()
    expectTypeOf(g.stream({} as ServerResponse)).toEqualTypeOf<AbortSignal>()
    expectTypeOf(g.stream).toBeCallableWith({} as Http2ServerResponse, { retry: 500 })
    expectTypeOf(g.stream).toBeCallableWith(new PassThrough(), { sse: true, onDrain: (target) => { target.write('event: bye\n\n') } })
    // @ts-expect-error not a writable
    g.stream(42)
  })
})
