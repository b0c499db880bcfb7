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
// 3. Over the IPC channel it answers `{ type: 'memory' }` with the heap after a
//    full GC (when run with --expose-gc).
import { subscribe } from 'node:diagnostics_channel'
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'

const idsFile = process.env.BENCH_IDS_FILE
if (idsFile) {
  const fd = openSync(idsFile, 'a')
  // Published by node:http right before the server's 'request' event.
  subscribe('http.server.request.start', (message) => {
    const id = (message as { request: IncomingMessage }).request.headers['x-bench-id']
    if (typeof id === 'string') writeSync(fd, `${id}\n`)
  })
  process.once('exit', () => closeSync(fd))
}

const exitFile = process.env.BENCH_EXIT_FILE
let lastResponseAt: number | null = null
// Published by node:http once a response is fully handed to the kernel.
if (idsFile) subscribe('http.server.response.finish', () => { lastResponseAt = performance.timeOrigin + performance.now() })
if (exitFile) process.once('exit', () => writeFileSync(exitFile, JSON.stringify({ exitAt: performance.timeOrigin + performance.now(), lastResponseAt })))

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
