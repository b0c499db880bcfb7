// A child process that holds thousands of keep-alive connections to a server
// under test, driven over IPC by hold.ts. It runs apart from the process that
// sends SIGTERM and watches for the exit, so that 10,000 sockets closing at
// once here cannot delay the moment the exit is seen there.
import { connect, type Socket } from 'node:net'
import { createAgent, now, send, type Attempt } from '@graceful/test-kit/client'

export type HolderCommand =
  | { type: 'open', port: number, count: number, path: string, batch: number, timeout: number }
  | { type: 'open-timed', port: number, count: number, batch: number, timeout: number, finishIn: number, spreadMs: number }
  | { type: 'count' }
  | { type: 'report', settleMs: number }
  | { type: 'exit' }

export type HolderReply =
  | { type: 'opened', ok: number, failed: number, ms: number }
  | { type: 'count', open: number }
  | { type: 'report', attempts: Attempt[], closedByFin: number, closedByReset: number, open: number, lastCloseAt: number | null }

const sockets = new Set<Socket>()
const attempts: Promise<Attempt>[] = []
let closedByFin = 0
let closedByReset = 0
let lastCloseAt: number | null = null
let nextId = 1

function watch (socket: Socket): void {
  if (sockets.has(socket)) return
  sockets.add(socket)
  socket.once('close', (hadError) => {
    sockets.delete(socket)
    lastCloseAt = now()
    if (hadError) closedByReset++
    else closedByFin++
  })
}

/** Runs `step` `count` times, at most `batch` at once. */
async function inLanes (count: number, batch: number, step: () => Promise<void>): Promise<void> {
  let started = 0
  const lane = async () => {
    while (started < count) {
      started++
      await step()
    }
  }
  await Promise.all(Array.from({ length: Math.min(batch, count) }, lane))
}

/** Opens `count` connections, at most `batch` being set up at once, one request each, each on its own agent; resolves once every one got its answer. */
async function open (command: Extract<HolderCommand, { type: 'open' }>): Promise<HolderReply> {
  const started = now()
  let ok = 0
  let failed = 0
  await inLanes(command.count, command.batch, async () => {
    // One agent per connection: a shared one would reuse the sockets.
    const attempt = send({
      agent: createAgent(1),
      port: command.port,
      path: command.path,
      id: nextId++,
      kind: command.path === '/' ? 'fast' : 'slow',
      timeout: command.timeout,
      onSocket: watch,
    })
    attempts.push(attempt)
    if ((await attempt).status === 200) ok++
    else failed++
  })
  return { type: 'opened', ok, failed, ms: now() - started }
}

/**
 * Opens `count` connections first, then sends one slow request on each, timed
 * to end from `finishIn` ms after the first is sent, evenly over `spreadMs`
 * (0: all at once). Sending each request as its connection opens would tie the
 * finish to how fast the server accepts: a busy server's accept queue
 * overflows, SYNs are retried a second or more later, and the requests sent
 * last would already be due.
 */
async function openTimed (command: Extract<HolderCommand, { type: 'open-timed' }>): Promise<HolderReply> {
  const started = now()
  const connected: Socket[] = []
  let failed = 0
  await inLanes(command.count, command.batch, async () => {
    const socket = connect({ host: '127.0.0.1', port: command.port })
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true))
      socket.once('error', () => resolve(false))
    })
    if (ok) connected.push(socket)
    else failed++
  })
  const finishAt = now() + command.finishIn
  await Promise.all(connected.map((socket, index) => new Promise<void>((resolve) => {
    const agent = createAgent(1)
    // The agent's one connection is the one opened above.
    ;(agent as unknown as { createConnection: () => Socket }).createConnection = () => socket
    const attempt = send({
      agent,
      port: command.port,
      path: `/slow?ms=${Math.max(0, Math.round(finishAt + command.spreadMs * index / connected.length - now()))}`,
      id: nextId++,
      kind: 'slow',
      timeout: command.timeout,
      onSocket: watch,
      onSent: resolve,
    })
    attempts.push(attempt)
    void attempt.then(() => resolve())
  })))
  return { type: 'opened', ok: connected.length, failed, ms: now() - started }
}

async function report (settleMs: number): Promise<HolderReply> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([
    Promise.all(attempts),
    new Promise<null>((resolve) => { timer = setTimeout(resolve, settleMs, null) }),
  ])
  clearTimeout(timer)
  return {
    type: 'report',
    attempts: settled ?? [],
    closedByFin,
    closedByReset,
    open: sockets.size,
    lastCloseAt,
  }
}

process.on('message', (command: HolderCommand) => {
  const reply = (message: HolderReply) => process.send?.(message)
  switch (command.type) {
    case 'open':
      void open(command).then(reply)
      break
    case 'open-timed':
      void openTimed(command).then(reply)
      break
    case 'count':
      reply({ type: 'count', open: sockets.size })
      break
    case 'report':
      void report(command.settleMs).then(reply)
      break
    case 'exit':
      for (const socket of sockets) socket.destroy()
      process.exit(0)
  }
})
// An orphan must not linger: when the parent goes, so does the holder.
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'count', open: 0 })
