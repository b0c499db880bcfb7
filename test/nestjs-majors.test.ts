import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packAll, runAsync } from './helpers/packs.js'

// @graceful/nestjs on every Nest major its peer range accepts (10, 11 and 12; 12 is the
// newest on npm in December 2026). For each, a clean project gets Nest N from the npm
// registry and graceful from its packed tarballs, with the command the package README
// gives (`npm install …/packs/graceful-core-*.tgz …/packs/graceful-nestjs-*.tgz` + the peers),
// and runs test/fixtures/nest-major/app.mjs on both platforms: a request in flight at
// SIGTERM completes, then Nest's hooks run with the signal, options from
// forRootAsync({ useClass }). The one test that needs the registry beyond `pnpm install`.

const majors = [10, 11, 12] as const
const platforms = ['express', 'fastify'] as const
const fixture = fileURLToPath(new URL('fixtures/nest-major/app.mjs', import.meta.url))

let work = ''
const projects = new Map<number, Promise<string>>()

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'graceful-nest-majors-'))
  const tarballs = packAll(work)
  const ours = ['@graceful/core', '@graceful/nestjs'].map((name) => tarballs.get(name) ?? '')
  for (const major of majors) {
    const dir = mkdtempSync(join(work, `nest${major}-`))
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `nest${major}-consumer`, private: true, type: 'module' }))
    copyFileSync(fixture, join(dir, 'app.mjs'))
    const peers = ['common', 'core', 'platform-express', 'platform-fastify'].map((name) => `@nestjs/${name}@^${major}`)
    // Side by side: three installs from the registry in the time of the slowest.
    const installed = runAsync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...ours, ...peers, 'reflect-metadata', 'rxjs'], dir, 240_000).then(() => dir)
    installed.catch(() => {}) // reported by the test that awaits it
    projects.set(major, installed)
  }
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(projects.values())
  rmSync(work, { recursive: true, force: true })
})

interface Report {
  nest: string
  platform: string
  timeout: number
  events: string[]
  response: { status: number, body: string, connection?: string } | { error: string }
  code: number
}

describe.each(majors)('@graceful/nestjs on Nest %i, installed from the packed tarballs with npm', (major) => {
  it.each(platforms)('%s: the request in flight at SIGTERM completes, then Nest\'s hooks run with the signal', { timeout: 300_000 }, async (platform) => {
    const dir = await projects.get(major)
    if (dir === undefined) throw new Error(`no project for Nest ${major}`)
    const out = await runAsync(process.execPath, ['app.mjs', platform], dir, 30_000)
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as Report
    expect(report.nest.split('.')[0]).toBe(String(major))
    expect(report.platform).toBe(platform)
    expect(report.timeout, 'options from forRootAsync({ useClass })').toBe(5000)
    expect(report.response).toEqual({ status: 200, body: 'done', connection: 'close' })
    expect(report.events).toEqual(['draining', 'response read', 'onModuleDestroy', 'onApplicationShutdown SIGTERM'])
    expect(report.code).toBe(0)
  })
})
