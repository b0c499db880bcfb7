import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { matches, wantedBy } from './listen-address.js'
import { listeningServers } from '../../support/node-internals.js'
import { writePidFile } from './ready-pipe.js'
import { childEnvironment, envFileKeys, unattachedListeners } from './scope.js'
import type { Logger } from '../../types/lifecycle.js'

const dir = mkdtempSync(join(tmpdir(), 'graceful-reload-scope-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('what a listen() asks for, matched against inherited addresses', () => {
  it.each([
    [[3000], { port: 3000, host: null }],
    [['3000'], { port: 3000, host: null }],
    [[3000, '127.0.0.1', () => {}], { port: 3000, host: '127.0.0.1' }],
    [[{ port: 8080, host: '::' }], { port: 8080, host: '::' }],
    [['/run/app.sock'], { path: '/run/app.sock' }],
    [[{ path: 'app.sock' }], { path: 'app.sock' }],
    [[0], null],
    [[], null],
    [[() => {}], null],
  ])('listen(%o) asks for %o', (args, wanted) => {
    expect(wantedBy(args)).toEqual(wanted)
  })

  it('matches port and host, "any" host for either family, and paths resolved', () => {
    expect(matches('127.0.0.1:3000', { port: 3000, host: null })).toBe(true)
    expect(matches('127.0.0.1:3000', { port: 3000, host: '127.0.0.1' })).toBe(true)
    expect(matches('127.0.0.1:3000', { port: 3001, host: null })).toBe(false)
    expect(matches('127.0.0.1:3000', { port: 3000, host: '10.0.0.1' })).toBe(false)
    expect(matches('[::]:3000', { port: 3000, host: '0.0.0.0' })).toBe(true)
    expect(matches('127.0.0.1:3000', { port: 3000, host: 'localhost' })).toBe(true)
    expect(matches(join(process.cwd(), 'app.sock'), { path: 'app.sock' })).toBe(true)
    expect(matches('127.0.0.1:3000', { path: '/run/app.sock' })).toBe(false)
    expect(matches(null, { port: 3000, host: null })).toBe(false)
  })
})

describe('what a reload re-reads', () => {
  it('leaves out of the new process\'s environment the keys an --env-file gave (the real environment wins, and stays)', () => {
    const file = join(dir, 'app.env')
    writeFileSync(file, 'FROM_FILE=1\nOVERRIDDEN=file\n')
    const env = { FROM_FILE: '1', OVERRIDDEN: 'shell', OTHER: 'x' }
    expect(envFileKeys([`--env-file=${file}`], env)).toEqual(['FROM_FILE'])
    expect(envFileKeys(['--env-file', file], env)).toEqual(['FROM_FILE'])
    expect(envFileKeys(['--env-file-if-exists=/no/such/file'], env)).toEqual([])
    expect(childEnvironment(['FROM_FILE'], { ADDED: '1' }, env)).toEqual({ OVERRIDDEN: 'shell', OTHER: 'x', ADDED: '1' })
  })
})

describe('the PID file', () => {
  const logged: string[] = []
  const log: Logger = { debug () {}, info () {}, warn () {}, error (_fields, message) { logged.push(message) } }

  it('is written atomically (a temporary file renamed over it)', () => {
    const path = join(dir, 'app.pid')
    expect(writePidFile(path, log)).toBe(true)
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`)
  })

  it('a write that fails is logged, never thrown', () => {
    expect(writePidFile(join(dir, 'gone', 'app.pid'), log)).toBe(false)
    expect(logged).toEqual([expect.stringContaining('could not write the PID file')])
  })
})

describe('listeners a reload would not hand over', () => {
  it('names a listening server nobody attached, by address; the fallback counts them', async () => {
    const attached = http.createServer()
    const other = http.createServer()
    await Promise.all([attached, other].map((server) => new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })))
    try {
      const { port } = other.address() as { port: number }
      expect(unattachedListeners([attached])).toContain(`127.0.0.1:${port}`)
      expect(unattachedListeners([attached], [other])).not.toContain(`127.0.0.1:${port}`)
      // Where process._getActiveHandles is gone, the public count still sees them.
      const fallback = listeningServers(null)
      expect(fallback.servers).toBeNull()
      expect(fallback.count).toBeGreaterThanOrEqual(2)
      // The private reader works on this Node: the day it changes, this fails.
      expect(listeningServers().servers).toEqual(expect.arrayContaining([attached, other]))
    } finally {
      await Promise.all([attached, other].map((server) => new Promise((resolve) => server.close(resolve))))
    }
  })
})
