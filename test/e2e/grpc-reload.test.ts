// In-place restart with a gRPC server attached (issue 20): the gRPC listening
// socket is handed over like the HTTP one. A grpc-js client calling through
// three SIGHUP reloads (unary calls, some always in flight) sees zero failed
// calls; after each reload the new process answers on the same gRPC port and
// the old one exits 0. Before graceful owned the gRPC socket, the new
// process's bindAsync failed with EADDRINUSE, the reload reported ok, the old
// process exited, and the gRPC port went dark.
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { sendRequest } from '@graceful/test-kit'
import { Processes, type Started } from '@graceful/test-kit/processes'
import { Echo, type Msg } from '../../packages/grpc/src/test-fixtures/echo.js'
import { nodeRefusal } from '../../packages/grpc/src/attach.js'
import { startGrpcLoad } from './helpers/grpc-load.js'
import { underSubreaper } from './helpers/subreaper.js'

const app = fileURLToPath(new URL('./fixtures/grpc-reload-app.ts', import.meta.url))
const processes = new Processes()
const reloads = 3
// On Node 26 a reload with gRPC attached is refused (packages/grpc/src/attach.ts, nodeRefusal).
const refusedHere = nodeRefusal(process.versions.node) !== null

afterEach(async () => {
  processes.killAdopted()
  await processes.killAll()
})

type EchoClient = grpc.Client & { Unary: (message: Msg, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void }

/** One call on a fresh channel: which process answers the gRPC port? */
async function whoAnswers (port: number): Promise<string> {
  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient
  try {
    return await new Promise((resolve, reject) => {
      client.Unary({ text: 'whoami' }, { deadline: new Date(Date.now() + 5000) }, (error, reply) => error ? reject(error) : resolve(reply?.text ?? ''))
    })
  } finally {
    client.close()
  }
}

/** Which process answers the HTTP port: a 200 whose body is its PID. */
async function httpPid (port: number): Promise<string> {
  const reply = await sendRequest(port, '/')
  expect(reply.status, `HTTP answer: ${reply.body}`).toBe(200)
  return reply.body
}

function lastPid (service: Started): string {
  return /^pid (\d+)$/.exec(service.lines.filter((line) => line.startsWith('pid ')).at(-1) ?? '')?.[1] ?? ''
}

function startApp (env: Record<string, string> = {}): Started {
  const args = underSubreaper(process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', app])
  if (!args) throw new Error('no prctl number for this architecture')
  const service = processes.spawn('gRPC app', 'perl', args, { cwd: fileURLToPath(new URL('./fixtures/', import.meta.url)), env: { ...process.env, NODE_OPTIONS: '', ...env } })
  // The app processes are the subreaper's children, and a SIGKILLed subreaper leaves the
  // current one running: each is adopted when it prints its PID, released once reaped.
  let seen = 0
  service.child.stdout?.on('data', () => {
    for (const line of service.lines.slice(seen)) {
      const match = /^(pid|reaped) (\d+)/.exec(line)
      if (match?.[1] === 'pid') processes.adopt(Number(match[2]))
      else if (match) processes.release(Number(match[2]))
    }
    seen = service.lines.length
  })
  return service
}

describe('reload with a gRPC server attached', () => {
  it.runIf(refusedHere)('on Node 26 the reload is refused by name: the old process keeps serving both ports, no call fails', { timeout: 60_000 }, async () => {
    const service = startApp()
    const [, grpcPort, httpPort] = await service.line(/^listening (\d+) (\d+)$/, 20_000)
    const pid = lastPid(service)
    const load = startGrpcLoad({ target: `127.0.0.1:${grpcPort}`, retries: true, fast: 4, pauseMs: 5, slow: 3, slowMs: 300 })
    try {
      await load.more(50, 20_000)
      process.kill(Number(pid), 'SIGHUP')
      await service.line(/^reload failed: .*Node\.js 26/, 20_000)
      expect(await whoAnswers(Number(grpcPort))).toBe(pid)
      expect(await httpPid(Number(httpPort))).toBe(pid)
      await load.more(50, 20_000)
    } finally {
      const report = await load.stop()
      expect(report.failures).toEqual({})
    }
  })

  it.runIf(!refusedHere)(`hands the gRPC socket over: a grpc-js client calling through ${reloads} reloads sees zero failures`, { timeout: 90_000 }, async () => {
    const service = startApp()
    const [, grpcPort, httpPort] = await service.line(/^listening (\d+) (\d+)$/, 20_000)
    let current = lastPid(service)
    expect(await whoAnswers(Number(grpcPort))).toBe(current)

    // grpc-js's defaults, as users run it: one channel, calls always in flight.
    const load = startGrpcLoad({ target: `127.0.0.1:${grpcPort}`, retries: true, fast: 4, pauseMs: 5, slow: 3, slowMs: 300 })
    try {
      await load.more(50, 20_000)
      for (let i = 1; i <= reloads; i++) {
        const old = current
        process.kill(Number(old), 'SIGHUP')
        await service.line(new RegExp(`^reaped ${old} code 0$`), 30_000)
        current = lastPid(service)
        expect(current).not.toBe(old)
        expect(service.lines.filter((line) => line.startsWith('bind error'))).toEqual([])
        // The same ports, now served by the new process.
        expect(await whoAnswers(Number(grpcPort))).toBe(current)
        expect(await httpPid(Number(httpPort))).toBe(current)
        await load.more(50, 20_000)
      }
    } finally {
      const report = await load.stop()
      console.table([{ reloads, calls: report.requests, ok: report.ok, failed: report.failed, failures: JSON.stringify(report.failures) }])
      expect(report.failures).toEqual({})
      expect(report.ok).toBe(report.requests)
    }
  })

  it.runIf(!refusedHere)('a gRPC server alone (no HTTP server) is handed over too: the new process is ready once it listens', { timeout: 60_000 }, async () => {
    const service = startApp({ HTTP: '0' })
    const [, grpcPort] = await service.line(/^listening (\d+) 0$/, 20_000)
    const old = lastPid(service)
    expect(await whoAnswers(Number(grpcPort))).toBe(old)
    process.kill(Number(old), 'SIGHUP')
    await service.line(new RegExp(`^reaped ${old} code 0$`), 30_000)
    const current = lastPid(service)
    expect(current).not.toBe(old)
    expect(await whoAnswers(Number(grpcPort))).toBe(current)
  })
})
