import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { pnpmCommand, published, publishedFilter, root, run, runAsync, type Manifest } from './helpers/packs.js'

// The release, up to the button: what `changeset publish` would publish (the release
// workflow, .github/workflows/release.yml, runs it with npm provenance), and the versions
// and Node range users are told. Publishing needs the registry's answer on which versions
// exist, so the dry run asks it (as `pnpm install` does); nothing is uploaded.

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest & { devDependencies: Record<string, string>, scripts: Record<string, string> }

describe('the release', () => {
  it('publish dry run: every package publishes, public, with provenance, its builds and types in the tarball', { timeout: 180_000 }, async () => {
    const [command, prefix] = pnpmCommand()
    // The command `changeset publish` runs per package, here for all of them at once.
    const out = await runAsync(command, [...prefix, '-r', ...publishedFilter, 'publish', '--dry-run', '--no-git-checks'], root, 170_000)
    for (const { manifest } of published) {
      expect(out, manifest.name).toContain(`+ ${manifest.name}@${manifest.version}`)
      expect(manifest.publishConfig, manifest.name).toEqual({ access: 'public', provenance: true })
      // npm lists the tarball's files between its name and its details.
      const section = out.slice(out.indexOf(`📦  ${manifest.name}@`), out.indexOf(`name: ${manifest.name}\n`))
      const files = [...section.matchAll(/npm notice [\d.]+k?B (\S+)/g)].map((match) => match[1] ?? '')
      for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) {
        expect(files, `${manifest.name}: ${file}`).toContain(file)
      }
      expect(files.filter((file) => /\.test(-d)?\.ts$/.test(file)), manifest.name).toEqual([])
    }
  })

  it('changesets: the pending release bumps every published package together, nothing private', () => {
    expect(rootManifest.devDependencies['@changesets/cli']).toBeDefined()
    const dir = mkdtempSync(join(tmpdir(), 'graceful-changesets-'))
    try {
      const file = join(dir, 'status.json')
      run(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), 'status', `--output=${file}`], root)
      const status = JSON.parse(readFileSync(file, 'utf8')) as { releases: { name: string, type: string, newVersion?: string }[] }
      // Private packages are listed with `type: 'none'`: never versioned, never published.
      const releases = status.releases.filter(({ type }) => type !== 'none')
      expect(releases.map(({ name }) => name).sort()).toEqual(published.map(({ manifest }) => manifest.name).sort())
      // One fixed group (.changeset/config.json): one version for all.
      expect(new Set(releases.map(({ newVersion }) => newVersion)).size).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('one Node range everywhere: the root, every package, and the READMEs say the same', () => {
    const range = rootManifest.engines?.node
    expect(range).toBe('^20.19.0 || ^22.0.0 || ^24.0.0 || ^26.0.0')
    for (const { dir, manifest } of published) {
      expect(manifest.engines?.node, manifest.name).toBe(range)
      expect(readFileSync(join(dir, 'README.md'), 'utf8'), manifest.name).toContain('Node.js 20.19+, 22, 24 and 26')
    }
  })
})

describe('the release workflow', () => {
  const workflow = parse(readFileSync(join(root, '.github/workflows/release.yml'), 'utf8')) as {
    jobs: { release: { permissions: Record<string, string>, steps: { uses?: string, run?: string, with?: Record<string, string>, env?: Record<string, unknown> }[] } }
  }
  const job = workflow.jobs.release
  const action = job.steps.find((step) => step.uses?.startsWith('changesets/action@'))

  it('publishes through changesets/action with provenance, after the tests', () => {
    expect(job.permissions).toMatchObject({ 'id-token': 'write', contents: 'write', 'pull-requests': 'write' })
    expect(action?.with).toMatchObject({ publish: 'pnpm release', version: 'pnpm version-packages' })
    expect(action?.env).toMatchObject({ NPM_CONFIG_PROVENANCE: true, NPM_TOKEN: '${{ secrets.NPM_TOKEN }}' })
    expect(rootManifest.scripts.release).toMatch(/build && changeset publish$/)
    expect(rootManifest.scripts['version-packages']).toMatch(/^changeset version/)
    const test = job.steps.findIndex((step) => step.run === 'pnpm test')
    expect(test).toBeGreaterThan(0)
    expect(test).toBeLessThan(job.steps.indexOf(action ?? job.steps[0]!))
  })
})
