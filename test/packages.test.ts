import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fork } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { within } from '@graceful/test-kit'

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

  it('loads its CommonJS build with require() and its ESM build with import, same exports', () => {
    // A CommonJS build, not Node's require(esm): Jest and TypeScript's node16 cannot use that.
    const cjs = node(['-e', `const f = require.resolve(${JSON.stringify(`${root}/packages/${name}`)}); console.log(JSON.stringify([f, Object.keys(require(f)).sort()]))`])
    const esm = node(['--input-type=module', '-e', `const f = import.meta.resolve(${JSON.stringify(`${root}/packages/${name}/dist/index.js`)}); console.log(JSON.stringify([f, Object.keys(await import(f)).sort()]))`])
    const [cjsFile, cjsKeys] = JSON.parse(cjs) as [string, string[]]
    const [esmFile, esmKeys] = JSON.parse(esm) as [string, string[]]
    expect(cjsFile).toMatch(/dist[/\\]index\.cjs$/)
    expect(esmFile).toMatch(/dist\/index\.js$/)
    expect(cjsKeys.length).toBeGreaterThan(0)
    expect(cjsKeys.filter((key) => key !== '__esModule')).toEqual(esmKeys.filter((key) => key !== 'module.exports'))
  })

  it('keeps the names of its exported classes and functions in both builds (Nest logs module names)', () => {
    // A bundler's rename: `_GracefulModule`, `graceful2`. Aliases (`default`) keep their own name.
    const renamed = (load: string) => node(['--input-type=module', '-e', `
      const m = ${load}
      console.log(JSON.stringify(Object.entries(m).filter(([key, v]) => typeof v === 'function' && v.name !== key && v.name.replace(/^_+|\\d+$/g, '') === key).map(([key, v]) => key + ' is ' + v.name)))
    `])
    expect(JSON.parse(renamed(`await import(${JSON.stringify(`${root}/packages/${name}/dist/index.js`)})`))).toEqual([])
    expect(JSON.parse(renamed(`(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(`${root}/packages/${name}/dist/index.cjs`)})`))).toEqual([])
  })
})

describe('engines', () => {
  it('names exactly the Node majors CI tests: 20 (pnpm test) and those of .ci/node-matrix.sh', () => {
    const matrix = readFileSync(new URL('../.ci/node-matrix.sh', import.meta.url), 'utf8')
    const majors = ['20', ...[...matrix.matchAll(/\[(\d+)\]=\1\.\d+\.\d+/g)].map((match) => match[1]!)]
    expect(majors.length).toBeGreaterThan(1)
    for (const name of packages) {
      const manifest = JSON.parse(readFileSync(new URL(`../packages/${name}/package.json`, import.meta.url), 'utf8')) as { engines: { node: string } }
      expect(manifest.engines.node.split('||').map((range) => range.trim().replace(/^\^(\d+)\..*$/, '$1')), name).toEqual(majors)
    }
  })

  it('runs paths that exist on the older majors: a moved test file must not drop out of the matrix unnoticed', () => {
    const matrix = readFileSync(new URL('../.ci/node-matrix.sh', import.meta.url), 'utf8')
    const subset = /^subset=\(([^)]*)\)/m.exec(matrix)?.[1]?.split(/\s+/).filter(Boolean) ?? []
    expect(subset.length).toBeGreaterThan(1)
    expect(subset.filter((path) => !existsSync(join(root, path)))).toEqual([])
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

  it('ESM and CommonJS builds loaded together share one SIGTERM listener and one drain', async () => {
    // The dual-package hazard: an ESM app whose CommonJS dependency also uses graceful.
    const child = fork(fileURLToPath(new URL('fixtures/two-formats.mjs', import.meta.url)), {
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const ready = await within(new Promise<{ files: string[], distinct: boolean, listeners: number, errors: boolean }>((resolve, reject) => {
        child.once('message', resolve)
        void exited.then((code) => reject(new Error(`fixture exited (${code}): ${out}`)))
      }), 15_000, 'two-formats fixture')
      expect(ready.files[0]).toMatch(/dist\/index\.js$/)
      expect(ready.files[1]).toMatch(/dist[/\\]index\.cjs$/)
      expect(ready.distinct).toBe(true)
      expect(ready.listeners).toBe(1)
      expect(ready.errors).toBe(true)
      child.kill('SIGTERM')
      expect(await within(exited, 15_000, 'two-formats fixture to exit')).toBe(0)
      expect(out.split('\n').filter(Boolean).sort()).toEqual(['hook cjs', 'hook esm'])
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
