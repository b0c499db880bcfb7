import * as grpc from '@grpc/grpc-js'
import { createGraceful } from '@graceful/core'
import { describe, expect, it, vi } from 'vitest'
import { afterTest } from '@graceful/test-kit'
import { attach, connectionAgeOptions } from './index.js'
import { bind, Echo, echoServer, type Msg } from './test-fixtures/echo.js'

type Client = grpc.Client & { Unary: (msg: Msg, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void }

function unary (client: Client, text: string): Promise<string | number> {
  return new Promise((resolve) => {
    client.Unary({ text }, { deadline: new Date(Date.now() + 5000) }, (error, reply) => { resolve(error ? error.code : reply?.text ?? '') })
  })
}

describe('maxConnectionAge on a gRPC server', () => {
  it('is grpc-js\'s own option, from the instance\'s: the connection gets GOAWAY at its age, calls go on', async () => {
    const warnings: string[] = []
    const logger = { info: () => {}, debug: () => {}, error: () => {}, warn: (_fields: unknown, message: string) => { warnings.push(message) } }
    const graceful = createGraceful({ signals: false, exit: false, logger, maxConnectionAge: 300, maxConnectionAgeGrace: 1000 })
    expect(connectionAgeOptions(graceful)).toEqual({ 'grpc.max_connection_age_ms': 300, 'grpc.max_connection_age_grace_ms': 1000 })
    const server = echoServer(undefined, { ...connectionAgeOptions(graceful) })
    attach(graceful, server)
    expect(warnings).toEqual([])
    const port = await bind(server)
    const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client
    afterTest(() => {
      client.close()
      server.forceShutdown()
      return graceful.force('cleanup')
    })
    expect(await unary(client, 'one')).toBe('one')
    const channel = client.getChannel()
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY)
    // The server's GOAWAY at ~300 ms (±10 %) leaves the channel idle until the next call.
    await vi.waitFor(() => expect(channel.getConnectivityState(false)).not.toBe(grpc.connectivityState.READY), { timeout: 5000, interval: 20 })
    expect(await unary(client, 'two')).toBe('two')
  })

  it('is empty when the option is off; a server created without it is reported once', () => {
    const off = createGraceful({ signals: false, exit: false, logger: false })
    expect(connectionAgeOptions(off)).toEqual({})
    const warnings: string[] = []
    const logger = { info: () => {}, debug: () => {}, error: () => {}, warn: (_fields: unknown, message: string) => { warnings.push(message) } }
    const on = createGraceful({ signals: false, exit: false, logger, maxConnectionAge: 60_000 })
    const server = echoServer()
    afterTest(() => on.force('cleanup'))
    attach(on, server)
    expect(warnings).toEqual([expect.stringMatching(/connectionAgeOptions\(graceful\)/)])
  })
})
