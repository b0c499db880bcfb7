// pnpm demo: each example app under keep-alive load, SIGTERM mid-load, with
// the plugin and then bare, and what every client saw; then an in-place
// restart (SIGHUP, `RELOAD=1`) next to a stop-and-start of the node:http app.
// Exits 1 if a request the server had accepted was lost with the plugin, or if
// a request failed during the reload. Loopback only, ~45 s.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { guardChildren, killAll, tmpDir } from './lib/children.js'
import { outcomeLabels, outcomes } from '@graceful/test-kit/client'
import { runDrain, type DrainProgress, type DrainResult } from './lib/drain.js'
import { int, ms, statusLine, textTable } from './lib/format.js'
import { timelineSvg, type TimelineRow } from './lib/svg.js'
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
  console.log(legend)
  const chart = writeChart(results)
  if (chart) console.log(`Timeline chart (requests per 50 ms by outcome, plugin vs bare): ${chart}\n`)

  const withPlugin = results.filter((r) => r.group === 'graceful')
  const bare = results.filter((r) => r.group === 'bare')
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

// Every column of the table, in its order. Each request the clients sent is in exactly one of the first six.
const legend = `\
completed        a complete response other than 503: served. With the plugin this includes the
                 race: a request that reached the server in the grace window (an idle keep-alive
                 connection reused just as the drain began, or one accepted just before the
                 listener closed) was sent before its client could know, and is served with
                 Connection: close (a proxy such as nginx never retries a 503).
503 + close      the clean rejection: a request that reached the server on an old keep-alive
                 connection after the grace window (pipelined behind a long response, say), or
                 still waiting at the drain deadline, got 503, Retry-After and Connection: close.
                 Retry it.
503 keep-alive   a 503 that left the connection open (the framework's own, e.g. Fastify's
                 return503OnClosing): the client may send the next request on a dying connection.
                 graceful always closes: 0 with the plugin.
refused          ECONNREFUSED: a new connection once the listener was closed. Nothing was sent,
                 so it is safe to retry elsewhere. graceful shows more of these than bare, not
                 fewer: its process stays up while in-flight requests finish (hundreds of ms), and
                 the load loops keep opening connections the whole time, each refused at once;
                 a bare process is gone within ~10 ms, so the same loops fail far fewer times
                 before the run ends, having lost requests instead.
not read         the connection broke before the server read the request (the keep-alive race:
                 the server closed an idle connection as the request was on its way). Safe to
                 retry if idempotent (Node's req.reusedSocket).
LOST             a request the server had parsed, or had started answering, then reset: the
                 client cannot tell whether it ran. The one outcome graceful exists to prevent.
in flight at SIGTERM → completed
                 requests being served at the signal, and how many of them got their response.
SIGTERM → exit   how long the process lived after the signal; exit code: 0 clean, 124 cut at the
                 deadline, 1 a hook failed, 143 killed by SIGTERM (bare Node).
`

/** The drain timeline of this run, beside the bench's own chart; returns its path. */
function writeChart (results: DrainResult[]): string | undefined {
  const rows: TimelineRow[] = []
  for (const framework of availableFrameworks()) {
    const panels = [true, false].flatMap((withPlugin) => {
      const result = results.find((r) => r.name === exampleSpec(framework, withPlugin).name)
      return result
        ? [{ title: withPlugin ? 'with the plugin' : 'bare (no plugin)', exitMs: result.exitMs, points: result.attempts.map((a) => ({ t: a.end - result.signalAt, outcome: a.outcome })) }]
        : []
    })
    if (panels.length > 0) rows.push({ label: framework, panels })
  }
  if (rows.length === 0) return undefined
  mkdirSync(tmpDir, { recursive: true })
  const file = join(tmpDir, 'demo-timeline.svg')
  writeFileSync(file, timelineSvg(rows, 'pnpm demo: requests finished per 50 ms, by outcome (SIGTERM at 0)'))
  return file
}

/** SIGHUP with `RELOAD=1` next to SIGTERM + start again, same app, same port, same load. */
async function reloadDemo (): Promise<ReloadResult[]> {
  const app = reloadApps().find((candidate) => candidate.name === 'node:http')!
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
