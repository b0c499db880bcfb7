// Zero-downtime in-place restart. Each example app runs with
// RELOAD=1 under keep-alive load; SIGHUP five times: every request succeeds,
// and one process is left, serving the last version. The same load through a
// stop-and-start (SIGTERM, then start the same app on the same port) sees
// refused connections, so the load does detect a gap. A new version that
// throws at boot, or never becomes ready, leaves the old one serving.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { within } from '@graceful/test-kit'
import { examples, type Example } from './helpers/examples.js'
import { startLoad, type Load, type LoadReport } from './helpers/load.js'
import { Processes, type Started } from '@graceful/test-kit/processes'
import { underSubreaper } from './helpers/subreaper.js'

const probe = fileURLToPath(new URL('./fixtures/reload-probe.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'graceful-reload-'))
const control = join(dir, 'control.json')
const reloads = 5
const processes = new Processes()
/** Every app PID any test saw (old, new, failed): killed in teardown, checked reaped. */
const pids = new Set<number>()
const loadOptions = { fast: 3, pauseMs: 10, slow: 2, slowMs: 200, requestTimeoutMs: 5000 }
const results: Record<string, unknown>[] = []

afterEach(async () => {
  for (const pid of pids) {
    // Only ours: a PID already reaped could have been reused by now.
    if (isOurs(pid)) process.kill(pid, 'SIGKILL')
  }
  // Each subreaper exits by itself once it reaped the last of its app's processes.
  await within(Promise.all([...running].map((wrapper) => wrapper.exited)), 10_000, 'every subreaper to reap its processes and exit')
  running.clear()
  await processes.killAll()
  pids.clear()
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  if (results.length > 0) console.table(results)
})

const running = new Set<Started>()

function isOurs (pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('reload-probe')
  } catch {
    return false
  }
}

/** True once the PID is gone from /proc: exited and reaped, not a zombie. */
function gone (pid: number): boolean {
  return !existsSync(`/proc/${pid}`)
}

interface Service { wrapper: Started, port: number, current: number }

function writeControl (version: number, boot: 'ok' | 'throw' | 'hang' = 'ok'): void {
  writeFileSync(control, JSON.stringify({ version, boot }))
}

/** Starts an example under the subreaper, with the probe preloaded; tracks every PID it prints. */
async function start (example: Example, env: Record<string, string>, version = 1, listening = /^listening (\d+)$/): Promise<Service> {
  writeControl(version)
  const args = underSubreaper(process.execPath, ['--conditions=@graceful/source', '--import', 'tsx', '--import', probe, example.entry])
  if (!args) throw new Error(`no prctl number for ${process.arch}`)
  const wrapper = processes.spawn(`${example.name} under a subreaper`, 'perl', args, {
    cwd: example.dir,
    env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: '0', GRACEFUL_TIMEOUT: '5000', RELOAD_CONTROL: control, ...env },
  })
  running.add(wrapper)
  wrapper.child.stdout?.on('data', () => {
    for (const line of wrapper.lines) {
      const match = /^pid (\d+) version/.exec(line)
      if (match) pids.add(Number(match[1]))
    }
  })
  const [, pid] = await wrapper.line(new RegExp(`^pid (\\d+) version ${version}$`), 15_000)
  const [, port] = await wrapper.line(listening, 15_000)
  return { wrapper, port: Number(port), current: Number(pid) }
}

/** SIGHUP with version `version` on disk: resolves once the new process is ready and the old one exited (its exit status). */
async function reload (service: Service, version: number): Promise<string> {
  writeControl(version)
  const old = service.current
  process.kill(old, 'SIGHUP')
  const [, pid] = await service.wrapper.line(new RegExp(`^pid (\\d+) version ${version}$`), 15_000)
  const [, status] = await service.wrapper.line(new RegExp(`^reaped ${old} (.+)$`), 15_000)
  service.current = Number(pid)
  return status ?? ''
}

/** One request on a fresh connection: who answers? */
function whoAnswers (port: number): Promise<{ status: number, version: string, pid: string }> {
  return within(new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: String(res.headers['x-version']), pid: String(res.headers['x-pid']) }))
    }).on('error', reject)
  }), 5000, 'a request')
}

async function stopLoad (load: Load): Promise<LoadReport> {
  return load.stop()
}

const nodeHttp = examples.find((example) => example.name === 'node:http') as Example
const multiDir = fileURLToPath(new URL('./fixtures/', import.meta.url))
const multi: Example = { name: 'three servers', dir: multiDir, entry: 'reload-multi.ts', file: `${multiDir}reload-multi.ts` }

/** GET / over HTTP/1 (`https`: TLS, self-signed), or HTTP/2 over TLS: the body. */
function get (protocol: 'http' | 'https' | 'h2', port: number): Promise<string> {
  const body = new Promise<string>((resolve, reject) => {
    if (protocol === 'h2') {
      const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false })
      session.on('error', reject)
      const stream = session.request({ ':path': '/' })
      let text = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => { text += chunk })
      stream.on('end', () => { session.close(); resolve(text) })
      stream.on('error', reject)
      return
    }
    const client = protocol === 'https' ? https : http
    client.get({ host: '127.0.0.1', port, path: '/', agent: false, rejectUnauthorized: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve(text))
    }).on('error', reject)
  })
  return within(body, 5000, `GET / over ${protocol}`)
}

async function answers (ports: number[]): Promise<string[]> {
  return Promise.all([get('http', ports[0] ?? 0), get('https', ports[1] ?? 0), get('h2', ports[2] ?? 0)])
}

describe.each(examples)('in-place restart: $name', (example) => {
  it(`${reloads} reloads under keep-alive load: every request succeeds, one process left with the new code`, { timeout: 60_000 }, async () => {
    const service = await start(example, { RELOAD: '1' })
    const load = startLoad({ target: { port: service.port }, ...loadOptions })
    const exits: string[] = []
    let report: LoadReport
    try {
      await load.more(30)
      for (let version = 2; version <= reloads + 1; version++) {
        exits.push(await reload(service, version))
        await load.more(30)
      }
    } finally {
      report = await stopLoad(load)
    }
    results.push({ target: example.name, mode: 'reload ×5', requests: report.requests, failed: report.failed, failures: JSON.stringify(report.failures) })
    expect(report.failures, service.wrapper.output()).toEqual({})
    expect(report.requests).toBeGreaterThan(30 * (reloads + 1))
    // Each old process drained and exited 0 by itself.
    expect(exits).toEqual(Array.from({ length: reloads }, () => 'code 0'))
    expect(await whoAnswers(service.port)).toEqual({ status: 200, version: String(reloads + 1), pid: String(service.current) })
    // One process left: every other one exited and was reaped (no zombie).
    expect(pids.size).toBe(reloads + 1)
    await vi.waitFor(() => expect([...pids].filter((pid) => pid !== service.current && !gone(pid))).toEqual([]), { timeout: 5000, interval: 50 })
    expect(gone(service.current)).toBe(false)
  })
})

describe('in-place restart: what it proves', () => {
  it('a stop-and-start of the same app under the same load (SIGTERM, then start on the port) refuses connections', { timeout: 60_000 }, async () => {
    let service = await start(nodeHttp, {})
    const port = service.port
    const load = startLoad({ target: { port }, ...loadOptions })
    const exits: string[] = []
    let report: LoadReport
    try {
      await load.more(30)
      for (let version = 2; version <= reloads + 1; version++) {
        process.kill(service.current, 'SIGTERM')
        const [, status] = await service.wrapper.line(new RegExp(`^reaped ${service.current} (.+)$`), 15_000)
        exits.push(status ?? '')
        service = await start(nodeHttp, { PORT: String(port) }, version)
        await load.more(30)
      }
    } finally {
      report = await stopLoad(load)
    }
    results.push({ target: 'node:http', mode: 'stop-and-start ×5', requests: report.requests, failed: report.failed, failures: JSON.stringify(report.failures) })
    expect(exits).toEqual(Array.from({ length: reloads }, () => 'code 0'))
    // Nobody listens between the old process's exit and the new one's listen().
    expect(report.failures.ECONNREFUSED ?? 0).toBeGreaterThan(0)
  })

  it('a new version that throws at boot, then one never ready: the old one keeps serving and reports it; a third reload succeeds', { timeout: 60_000 }, async () => {
    const pidFile = join(dir, 'app.pid')
    const service = await start(nodeHttp, { RELOAD: '1', RELOAD_TIMEOUT: '5000', RELOAD_PID_FILE: pidFile })
    const first = service.current
    // What systemd's PIDFile= reads: the serving process, written once it is ready.
    const pidInFile = () => Number(readFileSync(pidFile, 'utf8'))
    expect(pidInFile()).toBe(first)
    const load = startLoad({ target: { port: service.port }, ...loadOptions })
    let report: LoadReport
    const failures = () => service.wrapper.output().split('\n').filter((line) => line.includes('reload failed'))
    try {
      await load.more(30)

      writeControl(2, 'throw')
      process.kill(first, 'SIGHUP')
      const [, thrower] = await service.wrapper.line(/^pid (\d+) version 2$/, 15_000)
      await vi.waitFor(() => expect(failures()).toHaveLength(1), { timeout: 15_000, interval: 50 })
      expect(JSON.parse(failures()[0] ?? '{}')).toMatchObject({ level: 'error', pid: first, newPid: Number(thrower), code: 1, signal: null })
      // The old process reaped it (it was its child): not a zombie.
      await vi.waitFor(() => expect(gone(Number(thrower))).toBe(true), { timeout: 5000, interval: 50 })
      await load.more(30)

      writeControl(3, 'hang')
      process.kill(first, 'SIGHUP')
      const [, hung] = await service.wrapper.line(/^pid (\d+) version 3$/, 15_000)
      await vi.waitFor(() => expect(failures()).toHaveLength(2), { timeout: 15_000, interval: 50 })
      expect(failures()[1]).toContain('not ready within 5000 ms (killed)')
      expect(JSON.parse(failures()[1] ?? '{}')).toMatchObject({ pid: first, newPid: Number(hung), signal: 'SIGKILL', code: null })
      await vi.waitFor(() => expect(gone(Number(hung))).toBe(true), { timeout: 5000, interval: 50 })
      expect(await whoAnswers(service.port)).toEqual({ status: 200, version: '1', pid: String(first) })
      expect(pidInFile()).toBe(first)
      await load.more(30)

      expect(await reload(service, 4)).toBe('code 0')
      expect(pidInFile()).toBe(service.current)
      await load.more(30)
    } finally {
      report = await stopLoad(load)
    }
    results.push({ target: 'node:http', mode: 'throw, hang, reload', requests: report.requests, failed: report.failed, failures: JSON.stringify(report.failures) })
    expect(report.failures, service.wrapper.output()).toEqual({})
    expect(await whoAnswers(service.port)).toEqual({ status: 200, version: '4', pid: String(service.current) })
  })
})

describe('in-place restart: several servers, HTTPS and HTTP/2, graceful.reload()', () => {
  it('hands every socket over in attach order; reports a failed version through the event and the result', { timeout: 60_000 }, async () => {
    const service = await start(multi, {}, 1, /^ports (\d+ \d+ \d+)$/)
    const ports = (service.wrapper.lines.find((line) => line.startsWith('ports ')) ?? '').split(' ').slice(1).map(Number)
    const first = service.current
    expect(await answers(ports)).toEqual([`app ${first}`, `metrics ${first}`, `api ${first}`])

    writeControl(2, 'throw')
    process.kill(first, 'SIGUSR2')
    const [, failed] = await service.wrapper.line(/^result (.+)$/, 15_000)
    const [, event] = await service.wrapper.line(/^event reloadFailed (.+)$/, 15_000)
    expect(JSON.parse(failed ?? '')).toEqual(JSON.parse(event ?? ''))
    expect(JSON.parse(failed ?? '')).toMatchObject({ ok: false, code: 1, signal: null, reason: 'the new process exited (code 1) before it was ready' })
    expect(await answers(ports)).toEqual([`app ${first}`, `metrics ${first}`, `api ${first}`])

    writeControl(3)
    process.kill(first, 'SIGUSR2')
    const [, pid] = await service.wrapper.line(/^pid (\d+) version 3$/, 15_000)
    const [, done] = await service.wrapper.line(/^event reload (.+)$/, 15_000)
    expect(JSON.parse(done ?? '')).toMatchObject({ ok: true, pid: Number(pid) })
    expect(await service.wrapper.line(new RegExp(`^reaped ${first} (.+)$`), 15_000)).toContain('code 0')
    expect(await answers(ports)).toEqual([`app ${pid}`, `metrics ${pid}`, `api ${pid}`])
  })

  it('takes sockets passed by systemd socket activation (LISTEN_FDS, LISTEN_PID) in order', { timeout: 30_000 }, async () => {
    // What systemd does: the listening sockets at fd 3, 4, 5, and LISTEN_PID set to the service's own PID
    // (`exec` keeps the shell's PID). Our copies close once the child has them.
    const listeners = await Promise.all([0, 1, 2].map(() => new Promise<Server>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => resolve(server))
    })))
    const ports = listeners.map((server) => (server.address() as { port: number }).port)
    const fds = listeners.map((server) => (server as unknown as { _handle: { fd: number } })._handle.fd)
    writeControl(1)
    const child = processes.spawn('socket-activated', 'sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=3 exec "$0" "$@"', process.execPath,
      '--conditions=@graceful/source', '--import', 'tsx', '--import', probe, multi.entry], {
      cwd: multi.dir,
      env: { ...process.env, NODE_OPTIONS: '', RELOAD_CONTROL: control },
      fds,
    })
    for (const server of listeners) server.close()
    const [, pid] = await child.line(/^pid (\d+) version 1$/, 15_000)
    pids.add(Number(pid))
    const [, printed] = await child.line(/^ports (.+)$/, 15_000)
    expect(printed).toBe(ports.join(' '))
    expect(await answers(ports)).toEqual([`app ${pid}`, `metrics ${pid}`, `api ${pid}`])
  })
})
