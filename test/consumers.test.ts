import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { packAll, published, root, run, type Manifest } from './helpers/packs.js'

// Real consumers of the published packages, as users get them: `pnpm pack` each package
// (`pnpm test` builds first), unpack the tarballs into test/consumers/node_modules, and use
// them from the projects beside it — TypeScript ESM (`nodenext`, `bundler`), TypeScript
// CommonJS (`node16`, compiled and run), and Jest 30 (CommonJS, no transform). Offline: a
// package's dependencies and peers are linked from what the workspace installed for it;
// everything else (jest, typescript, @types) resolves up to the test workspace.
// A new package under packages/ is packed, linked and imported (every `exports` entry, both
// formats, every TypeScript mode) with no change here. (npm installing the same tarballs
// next to each Nest major from the registry: test/nestjs-majors.test.ts.)

const consumers = join(root, 'test/consumers')
const modules = join(consumers, 'node_modules')
const requireFromTests = createRequire(import.meta.url)

/** Every import specifier the packages offer: `@graceful/core`, `@graceful/core/adapter`, … */
const specifiers = published.flatMap(({ manifest }) => Object.keys(manifest.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => manifest.name + subpath.slice(1)))

function link (name: string, from: string): void {
  const target = join(modules, name)
  if (existsSync(target) || !existsSync(from)) return
  mkdirSync(dirname(target), { recursive: true })
  symlinkSync(realpathSync(from), target, 'dir')
}

beforeAll(() => {
  rmSync(modules, { recursive: true, force: true })
  const packs = mkdtempSync(join(tmpdir(), 'graceful-packs-'))
  try {
    for (const [name, tarball] of packAll(packs)) {
      const into = join(modules, name)
      mkdirSync(into, { recursive: true })
      run('tar', ['-xzf', tarball, '-C', into, '--strip-components=1'], root)
    }
  } finally {
    rmSync(packs, { recursive: true, force: true })
  }
  for (const { dir, manifest } of published) {
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (!name.startsWith('@graceful/')) link(name, join(dir, 'node_modules', name))
    }
  }
  const generated = '// Written by test/consumers.test.ts: every entry point of every published package.\n' +
    specifiers.map((specifier, index) => `import * as m${index} from '${specifier}'\n`).join('') +
    `export const all = [${specifiers.map((_, index) => `m${index}`).join(', ')}]\n`
  for (const project of ['esm', 'cjs']) writeFileSync(join(consumers, project, 'exports.generated.ts'), generated)
}, 120_000)

describe('consumers of the packed packages', () => {
  it('the packed manifests name real versions: no `workspace:` left, adapters need the core of their own release', () => {
    for (const { manifest } of published) {
      const packed = JSON.parse(readFileSync(join(modules, manifest.name, 'package.json'), 'utf8')) as Manifest
      const ranges = { ...packed.dependencies, ...packed.peerDependencies }
      expect(Object.values(ranges).filter((range) => range.startsWith('workspace:')), manifest.name).toEqual([])
      for (const [name, range] of Object.entries(ranges)) {
        if (name.startsWith('@graceful/')) expect(range, `${manifest.name} → ${name}`).toBe(`^${manifest.version}`)
      }
    }
  })

  it('every entry point: import() gives the ESM build, require() the CommonJS build, same exports', () => {
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(process.cwd() + '/')
      const out = {}
      for (const id of ${JSON.stringify(specifiers)}) {
        out[id] = {
          esm: [import.meta.resolve(id), Object.keys(await import(id)).sort()],
          cjs: [require.resolve(id), Object.keys(require(id)).sort()],
        }
      }
      console.log(JSON.stringify(out))
    `
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], join(consumers, 'esm'))) as Record<string, { esm: [string, string[]], cjs: [string, string[]] }>
    expect(Object.keys(out)).toEqual(specifiers)
    for (const [id, { esm, cjs }] of Object.entries(out)) {
      expect(esm[0], id).toMatch(/\/test\/consumers\/node_modules\/@graceful\/.+\/dist\/[\w-]+\.js$/)
      expect(cjs[0], id).toMatch(/[/\\]test[/\\]consumers[/\\]node_modules[/\\]@graceful[/\\].+[/\\]dist[/\\][\w-]+\.cjs$/)
      expect(esm[1].length, id).toBeGreaterThan(0)
      expect(cjs[1], id).toEqual(esm[1])
    }
  })

  it('TypeScript: ESM (nodenext, bundler) typechecks; CommonJS (node16) compiles without TS1479 and runs', () => {
    // One tsc process for the three projects; --force: never trust a previous run's .tsbuildinfo.
    const tsc = requireFromTests.resolve('typescript/bin/tsc')
    run(process.execPath, [tsc, '-b', '--force', 'esm/tsconfig.nodenext.json', 'esm/tsconfig.bundler.json', 'cjs/tsconfig.json'], consumers, 150_000)
    const out = JSON.parse(run(process.execPath, ['.out/usage.js'], join(consumers, 'cjs'))) as Record<string, unknown>
    expect(out).toEqual({
      resolved: expect.stringMatching(/dist[/\\]index\.cjs$/) as unknown,
      modules: specifiers.length,
      core: [200, 'clean'],
      fastify: [200, 'clean'],
      express: [200, 'clean'],
      koa: [200, 'clean'],
    })
  }, 180_000)

  it('Jest 30 (CommonJS, no transform) drains a real request through each adapter', () => {
    const jest = requireFromTests.resolve('jest/bin/jest')
    const out = run(process.execPath, [jest, '--ci', '--runInBand', '--json'], join(consumers, 'jest'), 150_000)
    const report = JSON.parse(out) as { success: boolean, numPassedTests: number, numTotalTests: number, testResults: { name: string }[] }
    expect(report.testResults.map(({ name }) => name.replace(/^.*[/\\]/, ''))).toEqual(expect.arrayContaining(['core.test.js', 'express.test.js', 'fastify.test.js', 'koa.test.js']))
    expect(report.numPassedTests).toBe(report.numTotalTests)
    expect(report.success).toBe(true)
  }, 180_000)
})
