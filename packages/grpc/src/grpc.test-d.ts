import type { Server } from '@grpc/grpc-js'
import { createGraceful } from '@graceful/core'
import { describe, expectTypeOf, it } from 'vitest'
import { attach, type GrpcAttachment, type StreamingCall } from './index.js'

describe('@graceful/grpc public types', () => {
  it('attaches a grpc-js Server to a graceful instance', () => {
    const g = createGraceful()
    expectTypeOf(attach(g, {} as Server)).toEqualTypeOf<GrpcAttachment>()
    expectTypeOf(attach).toBeCallableWith(g, {} as Server, { health: false, onDrain: (entry: StreamingCall) => { expectTypeOf(entry.path).toEqualTypeOf<string>(); entry.call.end() } })
    // @ts-expect-error unknown option
    attach(g, {} as Server, { timeout: 1 })
  })
})
