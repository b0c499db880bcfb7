import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The shape of the source, held: no import circle in any package (type imports
// count: a circle closed by a type is still two files that cannot be read apart),
// and in core no import running back up a floor (the core README's map).
const packagesDir = fileURLToPath(new URL('../packages', import.meta.url))
const packages = readdirSync(packagesDir).filter((name) => existsSync(join(packagesDir, name, 'src')))

/** Core's floors, bottom up: a file imports only from its own folder or a lower floor. */
const coreFloors: Record<string, number> = {
  types: 0,
  support: 1,
  observing: 2,
  answers: 3,
  connections: 4,
  streams: 4,
  process: 5,
  lifecycle: 6,
  options: 7,
  '.': 8,
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'test-fixtures' ? [] : sourceFiles(path)
    return name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name) ? [path] : []
  })
}

/** Relative imports and re-exports of a file (static, type-only ones included), as source paths. */
function importsOf (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)]
    .map((match) => normalize(join(dirname(file), match[1]!.replace(/\.js$/, '.ts'))))
}

function graphOf (src: string): Map<string, string[]> {
  return new Map(sourceFiles(src).map((file) => [relative(src, file), importsOf(file).map((target) => relative(src, target))]))
}

/** Every circle, as the files on it (Tarjan's strongly connected components of more than one file, or a self-import). */
function circles (graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const found: string[][] = []
  const visit = (file: string) => {
    index.set(file, index.size)
    low.set(file, index.get(file)!)
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue
      if (!index.has(next)) {
        visit(next)
        low.set(file, Math.min(low.get(file)!, low.get(next)!))
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!))
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = []
      let member: string
      do { member = stack.pop()!; component.push(member) } while (member !== file)
      if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort())
    }
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file)
  return found
}

const folderOf = (file: string) => file.includes('/') ? file.slice(0, file.indexOf('/')) : '.'

describe.each(packages)('packages/%s/src', (name) => {
  const graph = graphOf(join(packagesDir, name, 'src'))

  it('has no import circle', () => {
    expect(graph.size).toBeGreaterThan(0)
    expect(circles(graph)).toEqual([])
  })

  it.runIf(name === 'core')('imports only from its own folder or a floor below', () => {
    const upward: string[] = []
    for (const [file, targets] of graph) {
      const from = folderOf(file)
      expect(coreFloors, `${from}/ is not on the map (coreFloors)`).toHaveProperty([from])
      for (const target of targets) {
        const to = folderOf(target)
        if (to === from) continue
        if (!(coreFloors[to]! < coreFloors[from]!)) upward.push(`${file} → ${target}`)
      }
    }
    expect(upward).toEqual([])
  })

  it.runIf(name === 'core')('has a folder on the map for every folder on disk, and the other way round', () => {
    const onDisk = new Set([...graph.keys()].map(folderOf))
    expect([...onDisk].sort()).toEqual(Object.keys(coreFloors).sort())
  })
})

describe('the import checks themselves', () => {
  it('find a circle closed by a type import', () => {
    expect(circles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']], ['c.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts']])
  })

  it('read multi-line and type-only imports', () => {
    const src = fileURLToPath(new URL('../packages/core/src', import.meta.url))
    expect(importsOf(join(src, 'index.ts'))).toContain(join(src, 'types', 'lifecycle.ts'))
  })
})
