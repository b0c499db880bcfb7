// The servers under test run as users deploy them: compiled JavaScript, no
// loader. Through tsx, every process that exits by itself paid ~3 ms more from
// the signal to its 'exit' event and ~3 ms more to be gone (measured on this
// VM, node -e with and without --import tsx), while a bare server killed by
// the signal pays neither: the idle-shutdown floor would be compared with
// tsx's own teardown.
//
// Each server file is bundled with esbuild (the same transform tsx uses) with
// the `@graceful/source` condition, so no package build is needed: graceful's
// sources are bundled in; every other package stays an import, resolved from
// the server's own directory as it would be in production.
import { createRequire } from 'node:module'
import { basename, dirname, join, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'

const outputs = new Map<string, Promise<string>>()

/** The compiled `.mjs` of a TypeScript server file (built once per run, beside it in `.bench/`). */
export function compiled (file: string): Promise<string> {
  let output = outputs.get(file)
  if (!output) outputs.set(file, output = compile(file))
  return output
}

// An import in a bundled graceful source (`fastify-plugin`, `@nestjs/common`) is
// the adapter's own dependency, which the server's directory may not see
// (pnpm): it becomes an import of the file that package resolves to.
const packagesStayImports: Plugin = {
  name: 'packages-stay-imports',
  setup (builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@graceful/') || args.path.startsWith('node:')) return undefined
      if (!args.importer.includes(`${sep}packages${sep}`)) return { path: args.path, external: true }
      return { path: pathToFileURL(createRequire(args.importer).resolve(args.path)).href, external: true }
    })
  },
}

async function compile (file: string): Promise<string> {
  const outfile = join(dirname(file), '.bench', basename(file).replace(/\.[cm]?ts$/, '.mjs'))
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@graceful/source'],
    plugins: [packagesStayImports],
    logLevel: 'error',
  })
  return outfile
}
