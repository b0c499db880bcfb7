import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

/**
 * A system binary the end-to-end tests drive (haproxy, nginx), looked up on the PATH and
 * in the sbin folders Debian installs to (not on a normal user's PATH); null when absent.
 */
export function findBinary (name: string): string | null {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/local/sbin/${name}`]) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' })
      return candidate
    } catch {
      // Try the next place.
    }
  }
  return null
}

/**
 * `describe` for tests that need `binary` (from {@link findBinary}): skipped locally when it
 * is missing, failing under `CI=true`, where .ci/run installs it from Debian's packages.
 * `body` gets the binary's path through a function, which throws when it is missing.
 */
export function describeWithBinary (name: string, binary: string | null, title: string, body: (binary: () => string) => void): void {
  const required = process.env.CI === 'true' || process.env.CI === '1'
  if (!binary && !required) {
    describe.skip(`${title} (${name} not installed: apt-get install ${name})`, () => {
      it('skipped locally', () => {})
    })
    return
  }
  const missing = `${name} not found on PATH: install it with \`apt-get install -y ${name}\` (.ci/run does)`
  describe(title, () => {
    it(`${name} is installed (.ci/run installs it)`, () => {
      expect(binary, missing).not.toBeNull()
    })
    body(() => {
      if (!binary) throw new Error(missing)
      return binary
    })
  })
}
