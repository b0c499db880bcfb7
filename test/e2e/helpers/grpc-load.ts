import * as grpc from '@grpc/grpc-js'
import { setTimeout as delay } from 'node:timers/promises'
import { Echo, type Msg } from '../../../packages/grpc/src/test-fixtures/echo.js'
import { within } from '@graceful/test-kit'
import { emptyCounts } from '@graceful/test-kit/client'
import { progressOf, type Load, type LoadReport } from './load.js'

export interface GrpcLoadOptions {
  /** A grpc-js target: `unix:/path/lb.sock` (HAProxy's frontend) or `127.0.0.1:port`. */
  target: string
  /**
   * grpc-js's transparent retry (on by default: a stream the server side refused is sent
   * again). `false` (`grpc.enable_retries: 0`) makes every refused call a visible failure.
   */
  retries: boolean
  /** Loops calling `Unary('fast:<id>')`, `pauseMs` apart. */
  fast: number
  pauseMs: number
  /** Loops calling `Unary('slow:<slowMs>:<id>')`: calls always in flight when an instance is stopped. */
  slow: number
  slowMs: number
  /** Each call's gRPC deadline: a call that hangs is a failure (`DEADLINE_EXCEEDED`), not a hung test. */
  deadlineMs?: number
}

type EchoClient = grpc.Client & { Unary: (message: Msg, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => grpc.ClientUnaryCall }

/**
 * {@link startLoad}'s gRPC twin: `fast + slow` loops of unary calls, one at a
 * time each, multiplexed on one channel (one HTTP/2 connection, as a gRPC client
 * holds), until `stop()`. Every call that does not end `OK` with the expected
 * answer is a failure, counted by status (`UNAVAILABLE: …`), never thrown.
 */
export function startGrpcLoad (options: GrpcLoadOptions): Load {
  const client = new Echo(options.target, grpc.credentials.createInsecure(), options.retries ? {} : { 'grpc.enable_retries': 0 }) as unknown as EchoClient
  const report: LoadReport = { requests: 0, ok: 0, failures: {}, failed: 0, outcomes: emptyCounts() }
  const progress = progressOf(() => report.requests, 'gRPC calls')
  const deadlineMs = options.deadlineMs ?? 10_000
  let stopping = false
  let sent = 0

  const finish = (reason: string | null) => {
    report.requests++
    if (reason === null) {
      report.ok++
    } else {
      report.failed++
      report.failures[reason] = (report.failures[reason] ?? 0) + 1
    }
    progress.finished()
  }

  // Every call has its own text (the server prints it as the call starts) and must get it back.
  const once = (text: string) => new Promise<void>((resolve) => {
    client.Unary({ text }, { deadline: new Date(Date.now() + deadlineMs) }, (error, reply) => {
      if (error) finish(`${grpc.status[error.code] ?? error.code}: ${error.details.slice(0, 60)}`)
      else finish(reply?.text === text ? null : `wrong answer ${JSON.stringify(reply?.text)}`)
      resolve()
    })
  })

  const loop = async (prefix: string, pauseMs: number) => {
    while (!stopping) {
      await once(`${prefix}:${++sent}`)
      if (pauseMs > 0) await delay(pauseMs)
    }
  }
  const loops = [
    ...Array.from({ length: options.fast }, () => loop('fast', options.pauseMs)),
    ...Array.from({ length: options.slow }, () => loop(`slow:${options.slowMs}`, 0)),
  ]

  return {
    get done () { return report.requests },
    more: progress.more,
    stop: async () => {
      stopping = true
      try {
        await within(Promise.all(loops), deadlineMs + 1000, 'the gRPC load to stop')
      } finally {
        client.close()
      }
      return { ...report, failures: { ...report.failures } }
    },
  }
}
