import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { within } from '@graceful/test-kit'

// A programmatic shutdown releases everything. node:http's connection-checking
// interval, cleared only by http.Server's own close, used to keep every server (and, through its
// request listener, every graceful instance) reachable. Counted by the GC itself in a child.
const fixture = fileURLToPath(new URL('./fixtures/leak.ts', import.meta.url))

interface Result { collected: number, expected: number, symbolFound: boolean, listeners: number }

function run (target: string): Promise<Result> {
  const child = fork(fixture, {
    execArgv: ['--expose-gc', '--conditions=@graceful/source', '--import', 'tsx'],
    env: { ...process.env, LEAK_TARGET: target, LEAK_COUNT: '200', NODE_OPTIONS: '' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const result = new Promise<Result>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Result))
    child.once('exit', (code) => reject(new Error(`leak fixture exited ${code} without a result`)))
  })
  return within(result, 30_000, `${target} leak fixture`).finally(() => child.kill('SIGKILL'))
}

describe('faults: a programmatic shutdown releases everything', () => {
  it.each(['core', 'express', 'koa'])('%s: 200 instances and their servers are all collectable', async (target) => {
    const result = await run(target)
    // The private symbol this fix clears: this fails the day Node renames it.
    expect(result.symbolFound).toBe(true)
    expect(result.listeners).toBe(0)
    expect(result.collected).toBe(result.expected)
  }, 40_000)
})
