// pnpm demo: each example app under keep-alive load, SIGTERM mid-load, with
// the plugin and then bare, and what every client saw; then an in-place
// restart (SIGHUP, `RELOAD=1`) next to a stop-and-start of the node:http app.
// Exits 1 if a request the server had accepted was lost with the plugin, or if
// a request failed during the reload. Loopback only, ~45 s.
import { guardChildren, killAll } from './lib/children.js'
import { outcomeLabels, outcomes } from './lib/client.js'
import { runDrain, type DrainProgress, type DrainResult } from './lib/drain.js'
import { int, ms, statusLine, textTable } from './lib/format.js'
import { availableFrameworks, exampleSpec, frameworks } from './lib/targets.js'
import { killReloaded, reloadApps, reloadScenario, type ReloadResult } from './scenarios/reload.js'

const load = { fast: 16, slow: 16, slowMs: [100, 600] as const, warmupMs: 1500, tailMs: 250, timeout: 10_000 }

async function main (): Promise<number> {
  guardChildren()
  const available = availableFrameworks()
  const missing = frameworks.filter((framework) => !available.includes(framework))
  console.log('graceful demo: SIGTERM in the middle of keep-alive load, with the plugin and without it\n')
  console.log(`Each run: ${load.fast} clients on the fast route and ${load.slow} on /slow (${load.slowMs[0]}–${load.slowMs[1]} ms), keep-alive, on 127.0.0.1;`)
  console.log(`SIGTERM after ${load.warmupMs / 1000} s; the load goes on until the process is gone (TIMEOUT=${load.timeout} ms, no readiness delay).\n`)
  if (missing.length > 0) console.log(`(no example app yet for ${missing.join(', ')}: skipped)\n`)
  if (available.length === 0) throw new Error('no example app found under examples/')

  const results: DrainResult[] = []
  for (const framework of available) {
    for (const withPlugin of [true, false]) {
      const spec = exampleSpec(framework, withPlugin)
      const status = statusLine()
      let phase = ''
      const result = await runDrain(spec, {
        ...load,
        onProgress: (p) => {
          status.update(progress(spec.name, p), p.phase !== phase)
          phase = p.phase
        },
      })
      status.done(summary(result))
      results.push(result)
    }
  }

  console.log(`\n${textTable(table(results))}\n`)
  console.log('LOST        reset or error of a request the server had already parsed: the client cannot tell what happened.')
  console.log('not read    the connection closed before the server read the request (keep-alive race): a client may retry it if idempotent.')
  console.log('refused     ECONNREFUSED on a new connection once the listener closed: safe to retry elsewhere.')
  console.log('503 + close the clean rejection of a request arriving on an old connection while draining.\n')

  const withPlugin = results.filter((r) => !r.name.endsWith('(bare)'))
  const bare = results.filter((r) => r.name.endsWith('(bare)'))
  const lost = (list: DrainResult[]) => list.reduce((sum, r) => sum + r.counts.lost, 0)
  const unread = (list: DrainResult[]) => list.reduce((sum, r) => sum + r.counts.unread, 0)
  const failures = withPlugin.filter((r) => r.counts.lost > 0 || r.hung)
  console.log(`With the plugin: ${lost(withPlugin)} accepted request(s) lost, ${unread(withPlugin)} not read, in ${withPlugin.length} run(s).`)
  console.log(`Without it:      ${lost(bare)} accepted request(s) lost, ${unread(bare)} not read.`)

  const reloads = await reloadDemo()
  const failedReloads = reloads.filter((r) => r.mode === 'reload' && r.counts.completed !== r.requests)
  if (failures.length > 0 || failedReloads.length > 0) {
    if (failures.length > 0) console.log(`\nFAIL: ${failures.map((r) => r.name).join(', ')} lost accepted requests${failures.some((r) => r.hung) ? ' or did not exit' : ''}.`)
    if (failedReloads.length > 0) console.log('\nFAIL: requests failed during the in-place restart.')
    return 1
  }
  console.log('\nOK: no accepted request was lost with the plugin; the in-place restart failed none.')
  return 0
}

/** SIGHUP with `RELOAD=1` next to SIGTERM + start again, same app, same port, same load. */
async function reloadDemo (): Promise<ReloadResult[]> {
  const app = reloadApps().find((candidate) => candidate.name === 'node-http')!
  console.log('\nIn-place restart (examples/node-http, RELOAD=1): SIGHUP starts a new process on the same socket,')
  console.log('the old one drains once it is ready. Next to it: SIGTERM, then start the app again on the same port.\n')
  const results: ReloadResult[] = []
  for (const mode of ['reload', 'stop-and-start'] as const) {
    results.push(await reloadScenario(app, mode, { fast: 8, slow: 8, warmupMs: 1000, tailMs: 250 }, (line) => console.log(`  ${line}`)))
  }
  console.log(`\n${textTable({
    head: ['', 'signal → ready', 'signal → done', 'nobody listening', 'requests', ...outcomes.map((o) => outcomeLabels[o])],
    rows: results.map((r) => [r.mode, ms(r.toReadyMs), ms(r.totalMs), r.mode === 'reload' ? '0 ms' : ms(r.gapMs), int(r.requests), ...outcomes.map((o) => int(r.counts[o]))]),
  })}`)
  return results
}

function progress (name: string, p: DrainProgress): string {
  const what = p.phase === 'starting' ? 'starting…'
    : p.phase === 'load' ? 'under load'
      : p.phase === 'draining' ? 'SIGTERM sent, draining'
        : 'exited; load still on'
  return `${name.padEnd(20)} ${what.padEnd(24)} ${(p.elapsed / 1000).toFixed(1)} s  ok ${int(p.ok)}  503 ${int(p.rejected)}  errors ${int(p.errors)}  in flight ${p.inFlight}`
}

function summary (r: DrainResult): string {
  const exit = r.hung ? `did not exit within ${load.timeout} ms (killed)` : `exit ${r.exitCode} ${ms(r.exitMs)} after SIGTERM`
  return `${r.name.padEnd(20)} ${exit}; ${int(r.counts.completed)} completed, ${r.counts.lost} lost, in flight at SIGTERM ${r.inFlightAtSignal} → ${r.inFlightCompleted} completed`
}

function table (results: DrainResult[]) {
  return {
    head: ['', ...outcomes.map((o) => outcomeLabels[o]), 'in flight at SIGTERM → completed', 'SIGTERM → exit', 'exit code'],
    rows: results.map((r) => [
      r.name,
      ...outcomes.map((o) => int(r.counts[o])),
      `${r.inFlightAtSignal} → ${r.inFlightCompleted}`,
      r.hung ? 'hung' : ms(r.exitMs),
      String(r.exitCode),
    ]),
  }
}

main().then((code) => {
  killAll()
  killReloaded()
  process.exitCode = code
}, (error: unknown) => {
  killAll()
  killReloaded()
  console.error(error)
  process.exitCode = 1
})
