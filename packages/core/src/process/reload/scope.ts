import { readFileSync } from 'node:fs'
import { isatty } from 'node:tty'
import { parseEnv } from 'node:util'
import type { AttachableServer } from '../../types/handle.js'
import { addressOf } from './listen-address.js'
import { listeningServers } from '../../support/node-internals.js'

// What a reload carries over and what it refuses to leave behind: the new
// process's environment, listeners nobody hands over, and the terminal case.

/**
 * The keys this process took from `node --env-file` (and `--env-file-if-exists`)
 * files, read now (at creation, right after boot): those whose value in the
 * environment is the file's. A reload leaves them out of the new process's
 * environment, so its Node reads the file again, as it is on disk then. A key
 * set in the real environment too (which wins over the file) keeps its value.
 */
export function envFileKeys (execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): string[] {
  const keys: string[] = []
  for (const [i, arg] of execArgv.entries()) {
    const match = /^--env-file(?:-if-exists)?(?:=(.*))?$/.exec(arg)
    if (!match) continue
    const file = match[1] ?? execArgv[i + 1]
    if (file === undefined) continue
    let parsed: NodeJS.Dict<string>
    try {
      parsed = parseEnv(readFileSync(file, 'utf8'))
    } catch {
      continue
    }
    for (const [key, value] of Object.entries(parsed)) if (env[key] === value) keys.push(key)
  }
  return keys
}

/** The new process's environment: this one's, minus what the env files gave (they are read again), plus `extra`. */
export function childEnvironment (fromFiles: readonly string[], extra: Record<string, string>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const child: NodeJS.ProcessEnv = { ...env }
  for (const key of fromFiles) delete child[key]
  return { ...child, ...extra }
}

/**
 * True when this process runs on a terminal (stdin or stdout is a TTY): a
 * SIGHUP then most likely means the terminal hung up (an ssh session
 * dropped), and a reload would start a new process on a dead terminal.
 */
export function onTerminal (): boolean {
  return isatty(0) || isatty(1)
}

/**
 * Listening servers a reload would not hand over (a `ws` server on its own
 * port, a metrics server the app never attached): named when Node says which,
 * counted otherwise. The new process could not bind their addresses while
 * this one holds them, so the reload is refused instead.
 */
export function unattachedListeners (attached: readonly AttachableServer[], elsewhere: readonly AttachableServer[] = []): string[] {
  const known = new Set([...attached, ...elsewhere])
  const { servers, count } = listeningServers()
  if (servers !== null) return servers.filter((server) => !known.has(server)).map((server) => addressOf(server) ?? 'a server')
  const extra = count - attached.filter((server) => server.listening).length
  return extra > 0 ? [`${extra} listening socket(s)`] : []
}
