import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// What a consumer gets from the built packages (no source condition): `pnpm test` builds first.
const root = fileURLToPath(new URL('..', import.meta.url))
const packages = readdirSync(new URL('../packages', import.meta.url)).filter((name) => existsSync(new URL(`../packages/${name}/package.json`, import.meta.url)))

function node (args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: `${root}/packages/${packages[0]}`, encoding: 'utf8', timeout: 15_000 })
}

describe.each(packages)('@graceful/%s as published', (name) => {
  const dist = new URL(`../packages/${name}/dist/index.js`, import.meta.url)

  it('is built (run `pnpm build` first)', () => {
    expect(existsSync(dist), `${fileURLToPath(dist)} is missing`).toBe(true)
  })

  it('loads from CommonJS with require()', () => {
    const out = node(['-e', `const m = require(${JSON.stringify(`${root}/packages/${name}`)}); console.log(Object.keys(m).sort().join(','))`])
    expect(out.trim().length).toBeGreaterThan(0)
  })

  it('loads from ESM with import', () => {
    const out = node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(`${root}/packages/${name}/dist/index.js`)}); console.log(Object.keys(m).length)`])
    expect(Number(out.trim())).toBeGreaterThan(0)
  })
})

describe('one signal owner across copies', () => {
  it('two copies of @graceful/core in one process share one SIGTERM listener', () => {
    // A second, separate copy of the package, as a duplicated node_modules would hold.
    const copy = mkdtempSync(join(tmpdir(), 'graceful-copy-'))
    try {
      cpSync(`${root}/packages/core/dist`, join(copy, 'dist'), { recursive: true })
      cpSync(`${root}/packages/core/package.json`, join(copy, 'package.json'))
      const script = `
        const a = await import(${JSON.stringify(`${root}/packages/core/dist/index.js`)})
        const b = await import(${JSON.stringify(join(copy, 'dist/index.js'))})
        const before = process.listenerCount('SIGTERM')
        a.createGraceful({ exit: false })
        b.createGraceful({ exit: false })
        console.log(a.createGraceful !== b.createGraceful, process.listenerCount('SIGTERM') - before)
      `
      expect(node(['--input-type=module', '-e', script]).trim()).toBe('true 1')
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })
})
