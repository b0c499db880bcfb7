import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The published packages as users get them: what `pnpm pack` puts in a tarball. Shared by
// the consumers test (tarballs unpacked offline), the release test (publish dry run) and
// the Nest majors test (tarballs installed by npm next to Nest from the registry).

export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface Manifest {
  name: string
  version: string
  private?: boolean
  engines?: { node?: string }
  exports: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  publishConfig?: { access?: string, provenance?: boolean }
}

/** Every package under packages/ that is not private: a new one is picked up with no change here. */
export const published = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir: join(root, 'packages', dir), manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true)

const env = () => ({ ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' })

function failed (command: string, args: string[], cwd: string, error: unknown): Error {
  const { stdout, stderr } = error as { stdout?: string, stderr?: string }
  return new Error(`${[command, ...args].join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error })
}

/** Runs a command to completion; its stdout, or an error carrying both outputs. */
export function run (command: string, args: string[], cwd: string, timeout = 60_000): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: env() })
  } catch (error) {
    throw failed(command, args, cwd, error)
  }
}

/** {@link run} without blocking the worker, so several installs can run side by side. */
export function runAsync (command: string, args: string[], cwd: string, timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout, env: env(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(failed(command, args, cwd, Object.assign(error, { stdout, stderr })))
      else resolve(stdout + stderr)
    })
  })
}

/** pnpm as `pnpm test` runs it, else the README's `npx --yes pnpm@10`. */
export function pnpmCommand (): [string, string[]] {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath)) return [process.execPath, [execPath]]
  return ['npx', ['--yes', 'pnpm@10']]
}

export function pnpm (args: string[], cwd: string, timeout?: number): string {
  const [command, prefix] = pnpmCommand()
  return run(command, [...prefix, ...args], cwd, timeout)
}

/** The `--filter` arguments that select every published package. */
export const publishedFilter = published.flatMap(({ manifest }) => ['--filter', manifest.name])

/** The file name `pnpm pack` gives a package's tarball. */
export function tarballName (manifest: Manifest): string {
  return `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`
}

/** Packs every published package into `into` (`pnpm test` builds first); the tarballs' paths by package name. */
export function packAll (into: string): Map<string, string> {
  for (const { dir } of published) {
    if (!existsSync(join(dir, 'dist/index.cjs'))) throw new Error(`${dir}/dist/index.cjs is missing: run \`pnpm build\` first (\`pnpm test\` does)`)
  }
  pnpm(['-r', ...publishedFilter, 'pack', '--pack-destination', into], root)
  return new Map(published.map(({ manifest }) => [manifest.name, join(into, tarballName(manifest))]))
}
