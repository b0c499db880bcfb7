import { defineConfig } from 'vitest/config'

// Tests run against src through the "@graceful/source" export condition: no build needed.
const conditions = ['@graceful/source', 'module', 'node', 'development|production']

/** Run by `pnpm test:artifacts` (GRACEFUL_ARTIFACTS=1) only. */
export const artifactTests = ['test/release.test.ts', 'test/nestjs-majors.test.ts']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@graceful/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The artifact proofs (a publish dry run, a consumer project per Nest major from the registry)
    // run in .ci/run as `pnpm test:artifacts`: they keep `pnpm test` under 10 minutes.
    exclude: ['**/node_modules/**', ...(process.env.GRACEFUL_ARTIFACTS === '1' ? [] : artifactTests)],
    // Source type errors are `pnpm typecheck`'s job; here only the type tests.
    typecheck: { enabled: true, ignoreSourceErrors: true, include: ['packages/*/src/**/*.test-d.ts', 'test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Signal tests fork children; two workers match the CI machine's two cores.
    maxWorkers: 2,
    retry: 0,
  },
})
