import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// A test file's name is how a CI log, a README or .ci/node-matrix.sh points at it: one
// name, one file (test/README.md says how files are named).
const root = fileURLToPath(new URL('..', import.meta.url))

function testFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return /\.test(-d)?\.ts$/.test(entry.name) ? [path.slice(root.length)] : []
  })
}

describe('test file names', () => {
  it('are unique across the repository', () => {
    const files = [...testFiles(join(root, 'packages')), ...testFiles(join(root, 'test'))]
    expect(files.length).toBeGreaterThan(50)
    const byName = new Map<string, string[]>()
    for (const file of files) byName.set(basename(file), [...byName.get(basename(file)) ?? [], file])
    expect([...byName.values()].filter((paths) => paths.length > 1)).toEqual([])
  })
})
