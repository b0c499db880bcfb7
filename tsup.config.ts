import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'

// The one build of every published package, run from the package's directory
// (`tsup --config ../../tsup.config.ts`). Its entries are the `@graceful/source`
// targets of the package's `exports`: adding an entry point is adding its block
// to `exports`, nothing here. Each entry ships as ESM (`dist/<name>.js` +
// `.d.ts`) and CommonJS (`dist/<name>.cjs` + `.d.cts`), because Jest on Node 20
// and TypeScript's `node16` resolution cannot load an ESM-only package.

interface Manifest { exports: Record<string, string | Record<string, unknown>> }

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest
const entry: Record<string, string> = {}
for (const [subpath, target] of Object.entries(manifest.exports)) {
  const source = typeof target === 'object' ? target['@graceful/source'] : undefined
  if (typeof source !== 'string') continue
  entry[subpath === '.' ? 'index' : subpath.replace(/^\.\//, '')] = source
}
if (Object.keys(entry).length === 0) throw new Error('package.json exports name no "@graceful/source" entry to build')

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  // `.d.ts` for the ESM files, `.d.cts` for the CommonJS ones: each format gets
  // declarations TypeScript reads in that format (are-the-types-wrong clean).
  dts: true,
  tsconfig: 'tsconfig.build.json',
  // Shared code goes to chunks in both formats, so two entries of one package
  // (`@graceful/core` and `@graceful/core/adapter`) never hold two copies of a module.
  splitting: true,
  // Dependencies and peers (`@graceful/core`, the frameworks) stay imports.
  external: [/^@graceful\//],
  target: 'node20',
  // esbuild renames a class that refers to itself (`_GracefulModule`); Nest logs
  // module names, and stack traces read better with the names in the source.
  keepNames: true,
  platform: 'node',
  sourcemap: true,
  clean: true,
  outDir: 'dist',
})
