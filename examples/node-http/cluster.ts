// node:cluster with graceful workers, and a rolling restart that loses no request.
//   WORKERS=4 PORT=3000 GRACEFUL_READINESS_DELAY=1000 GRACEFUL_TIMEOUT=10000 pnpm cluster
//   kill -HUP <primary pid>    rolling restart: start a new worker, wait until it listens,
//                              SIGTERM one old worker, wait until it has drained and exited, next
//   kill -TERM <primary pid>   stop: every worker drains, then the primary exits
// stdout, one line each: `listening <port>`, `worker <pid> listening`, `worker <pid> exited <code|signal>`,
// `restarted <n>` after a rolling restart, `stopped` before the primary exits.
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { resolveOptions } from '@graceful/core/adapter'

const size = Number(process.env.WORKERS ?? availableParallelism())
if (!Number.isInteger(size) || size < 1) throw new TypeError(`WORKERS must be a positive integer, got "${process.env.WORKERS}"`)
// A worker that does not exit within its own budget (plus a margin) is killed.
// The workers' budget: GRACEFUL_TIMEOUT, which they inherit, as graceful resolves it.
const killAfterMs = resolveOptions({ signals: false }).timeout + 2000

cluster.setupPrimary({
  exec: fileURLToPath(new URL('./server.ts', import.meta.url)),
  // Workers inherit execArgv (--import tsx); their stdout is ours to read, stderr passes through.
  silent: true,
})

const print = (line: string) => process.stdout.write(`${line}\n`)
/** Workers we asked to leave: their exit is expected, not a crash to replace. */
const leaving = new WeakSet<Worker>()
let stopping = false
let restarting: Promise<void> | null = null
let announced = false

function fork (): Promise<Worker> {
  // CLUSTER_WORKER tells server.ts that the primary owns the lifecycle (see there).
  const worker = cluster.fork({ CLUSTER_WORKER: '1' })
  worker.process.stdout?.resume()
  worker.process.stderr?.pipe(process.stderr)
  return new Promise((resolve, reject) => {
    const early = (code: number | null, signal: string | null) => reject(new Error(`worker exited (${signal ?? code}) before listening`))
    worker.once('exit', early)
    worker.once('listening', (address) => {
      worker.off('exit', early)
      print(`worker ${worker.process.pid} listening`)
      if (!announced) {
        announced = true
        print(`listening ${address.port}`)
      }
      resolve(worker)
    })
  })
}

/**
 * SIGTERM to the worker's process: the trigger graceful drains on. (`worker.disconnect()`
 * would close the worker's servers behind graceful's back: no readiness delay, no deadline,
 * no release hooks.) Killed if it outlives its own budget.
 */
function retire (worker: Worker): Promise<void> {
  leaving.add(worker)
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve()
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), killAfterMs)
    worker.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    worker.process.kill('SIGTERM')
  })
}

cluster.on('exit', (worker, code, signal) => {
  print(`worker ${worker.process.pid} exited ${signal ?? code}`)
  // A crash: keep the pool at its size.
  if (!stopping && !leaving.has(worker)) fork().catch((error: unknown) => console.error(error))
})

async function rollingRestart (): Promise<void> {
  const old = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !leaving.has(worker))
  for (const worker of old) {
    if (stopping) return
    // Surge first: the new worker listens before the old one stops accepting.
    await fork()
    await retire(worker)
  }
  print(`restarted ${old.length}`)
}

process.on('SIGHUP', () => {
  if (stopping) return
  restarting ??= rollingRestart()
    .catch((error: unknown) => console.error(error))
    .finally(() => { restarting = null })
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined)
    void Promise.all(workers.map(retire)).then(() => {
      print('stopped')
      process.exit(0)
    })
  })
}

await Promise.all(Array.from({ length: size }, fork))
