import { spawn } from 'node:child_process'
import { setPriority } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { HolderCommand, HolderReply } from './holder.js'

const entry = fileURLToPath(new URL('./holder.ts', import.meta.url))

export interface Holder {
  /** Opens `count` keep-alive connections, one request each; resolves when each got its response. */
  open: (options: { port: number, count: number, path?: string, batch?: number, timeout?: number }) => Promise<Extract<HolderReply, { type: 'opened' }>>
  /** Opens `count` connections, then sends a slow request on each, timed to end from `finishIn` ms after the first is sent, evenly over `spreadMs`; resolves once all are sent. */
  openTimed: (options: { port: number, count: number, finishIn: number, spreadMs?: number, batch?: number, timeout?: number }) => Promise<Extract<HolderReply, { type: 'opened' }>>
  /** Connections still open. */
  count: () => Promise<number>
  /** Waits (at most `settleMs`) for every request to finish, then reports them and how the connections ended. */
  report: (settleMs: number) => Promise<Extract<HolderReply, { type: 'report' }>>
  /** Closes everything; SIGKILL if the holder does not go within 2 s. */
  stop: () => Promise<void>
}

/** Starts the connection holder child (holder.ts), with `ulimit -n` raised for it when asked. */
export async function startHolder (maxFiles?: number): Promise<Holder> {
  const args = ['--import', 'tsx', entry]
  const child = maxFiles
    ? spawn('/bin/sh', ['-c', `ulimit -n ${maxFiles} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start the connection holder')
  // The clients of a real server are on other machines: here they share two
  // cores with it, so they yield the CPU to the server and to the process
  // that watches for its exit.
  setPriority(pid, 19)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = () => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  process.once('exit', kill)

  const waiting = new Map<HolderReply['type'], (reply: HolderReply) => void>()
  child.on('message', (reply: HolderReply) => {
    const resolve = waiting.get(reply.type)
    waiting.delete(reply.type)
    resolve?.(reply)
  })
  function ask<T extends HolderReply['type']> (command: HolderCommand | null, type: T, limitMs: number): Promise<Extract<HolderReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection holder: no "${type}" reply within ${limitMs} ms`)), limitMs)
      waiting.set(type, (reply) => {
        clearTimeout(timer)
        resolve(reply as Extract<HolderReply, { type: T }>)
      })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error('connection holder exited'))
      })
      if (command) child.send(command)
    })
  }
  // The holder says hello (a `count` reply) once it is listening for commands.
  await ask(null, 'count', 20_000)

  return {
    open: ({ port, count, path = '/', batch = 250, timeout = 30_000 }) =>
      ask({ type: 'open', port, count, path, batch, timeout }, 'opened', 60_000),
    openTimed: ({ port, count, finishIn, spreadMs = 0, batch = 250, timeout = 30_000 }) =>
      ask({ type: 'open-timed', port, count, finishIn, spreadMs, batch, timeout }, 'opened', 60_000),
    count: async () => (await ask({ type: 'count' }, 'count', 10_000)).open,
    report: (settleMs) => ask({ type: 'report', settleMs }, 'report', settleMs + 10_000),
    stop: async () => {
      if (child.connected) child.send({ type: 'exit' })
      const timer = setTimeout(kill, 2_000)
      await exited
      clearTimeout(timer)
      process.off('exit', kill)
    },
  }
}
