// Preloaded into every server child by children.ts (`--import probe.ts`); the
// servers themselves know nothing of it.
//
// 1. With BENCH_IDS_FILE set, it appends the `x-bench-id` of every request the
//    server has parsed to that file, synchronously, before any handler runs.
//    That is the server-side truth the classifier needs: a request that failed
//    on the client was "accepted" only if its id is in the file. A regular file
//    survives SIGKILL and never blocks. Only the drain scenarios and the demo
//    turn it on; the overhead runs don't pay for it.
// 2. With BENCH_EXIT_FILE set, it writes there when the `'exit'` event began,
//    so the bench can tell the process's own exit from the kernel's teardown,
//    and (with BENCH_IDS_FILE too) when the last response finished, on the
//    same clock: a client reading late cannot blur the gap between the two.
// 3. With BENCH_EXIT_AT_ONCE=1 (bare servers only), it calls process.exit(0) on
//    SIGTERM: the idle section's floor of a process that exits by itself.
// 4. Over the IPC channel it answers `{ type: 'memory' }` with the heap after a
//    full GC (when run with --expose-gc).
import { subscribe } from 'node:diagnostics_channel'
import { openSync, writeSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'

const idsFile = process.env.BENCH_IDS_FILE
if (idsFile) {
  const fd = openSync(idsFile, 'a')
  // Published by node:http right before the server's 'request' event.
  subscribe('http.server.request.start', (message) => {
    const id = (message as { request: IncomingMessage }).request.headers['x-bench-id']
    if (typeof id === 'string') writeSync(fd, `${id}\n`)
  })
  // Left open: the exit closes it, with no work at exit here.
}

const exitFile = process.env.BENCH_EXIT_FILE
let lastResponseAt: number | null = null
const clock = () => performance.timeOrigin + performance.now()
// Published by node:http once a response is fully handed to the kernel.
if (idsFile) subscribe('http.server.response.finish', () => { lastResponseAt = clock() })
if (exitFile) {
  // The file is opened and the clock read now, so that the 'exit' listener
  // costs one write: done cold at exit (the first read of the global
  // `performance`, opening and writing the file, JSON.stringify) it took
  // ~2 ms of the very exit the idle section times, in every server that exits
  // by itself and never in one the signal kills (node -e, 0 connections: exit
  // 4.6 ms without it, 6.6 ms with it, 5.3 ms warmed up).
  const fd = openSync(exitFile, 'w')
  clock()
  process.once('exit', () => writeSync(fd, `{"exitAt":${clock()},"lastResponseAt":${lastResponseAt}}`))
}

if (process.env.BENCH_EXIT_AT_ONCE === '1') process.once('SIGTERM', () => process.exit(0))

if (process.send) {
  const gc = (globalThis as { gc?: () => void }).gc
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'memory') return
    gc?.()
    gc?.()
    const { heapUsed, rss, external } = process.memoryUsage()
    process.send?.({ type: 'memory', heapUsed, rss, external })
  })
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref()
}
