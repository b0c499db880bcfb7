import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// Real consumers of the published packages, as users get them: `pnpm pack` each package
// (`pnpm test` builds first), unpack the tarballs into test/consumers/node_modules, and use
// them from the projects beside it — TypeScript ESM (`nodenext`, `bundler`), TypeScript
// CommonJS (`node16`, compiled and run), and Jest 30 (CommonJS, no transform). Offline: a
// package's dependencies and peers are linked from what the workspace installed for it;
// everything else (jest, typescript, @types) resolves up to the test workspace.
// A new package under packages/ is packed, linked and imported (every `exports` entry, both
// formats, every TypeScript mode) with no change here.

const root = fileURLToPath(new URL('..', import.meta.url))
const consumers = join(root, 'test/consumers')
const modules = join(consumers, 'node_modules')
const requireFromTests = createRequire(import.meta.url)

interface Manifest {
  name: string
  version: string
  private?: boolean
  exports: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

const published = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir: join(root, 'packages', dir), manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true)

/** Every import specifier the packages offer: `@graceful/core`, `@graceful/core/adapter`, … */
const specifiers = published.flatMap(({ manifest }) => Object.keys(manifest.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => manifest.name + subpath.slice(1)))

function run (command: string, args: string[], cwd: string, timeout = 60_000): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' } })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string, stderr?: string }
    throw new Error(`${[command, ...args].join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error })
  }
}

/** pnpm as `pnpm test` runs it, else the README's `npx --yes pnpm@10`. */
function pnpm (args: string[], cwd: string): string {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath)) return run(process.execPath, [execPath, ...args], cwd)
  return run('npx', ['--yes', 'pnpm@10', ...args], cwd)
}

function link (name: string, from: string): void {
  const target = join(modules, name)
  if (existsSync(target) || !existsSync(from)) return
  mkdirSync(dirname(target), { recursive: true })
  symlinkSync(realpathSync(from), target, 'dir')
}

beforeAll(() => {
  for (const { dir } of published) {
    if (!existsSync(join(dir, 'dist/index.cjs'))) throw new Error(`${dir}/dist/index.cjs is missing: run \`pnpm build\` first (\`pnpm test\` does)`)
  }
  rmSync(modules, { recursive: true, force: true })
  const packs = mkdtempSync(join(tmpdir(), 'graceful-packs-'))
  try {
    pnpm(['-r', ...published.flatMap(({ manifest }) => ['--filter', manifest.name]), 'pack', '--pack-destination', packs], root)
    for (const { manifest } of published) {
      const tarball = join(packs, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`)
      const into = join(modules, manifest.name)
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
