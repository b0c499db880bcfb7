import { closeSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { debuglog } from 'node:util'
import type { Logger } from '../../types/lifecycle.js'

// What the new process of a reload says to the old one, and the PID file it
// writes first: small synchronous writes, each failure reported, none fatal.

const debug = debuglog('graceful')

/** One line on the inherited pipe (`ready <n>`, `unclaimed <addresses>`), then closes it. */
export function tellOldProcess (fd: number, line: string): void {
  try {
    writeSync(fd, `${line}\n`)
    debug('told the old process: %s', line)
  } catch (error) {
    // The old process is gone (EPIPE): nobody is waiting for the news.
    debug('could not tell the old process: %s', (error as Error).message)
  }
  try {
    closeSync(fd)
  } catch {
    // Already closed.
  }
}

/**
 * Atomically (write a temporary file beside it, then rename), so a reader
 * never sees a half-written PID. A failure (the folder was removed, the disk
 * is full) is logged, never thrown: the process serves on without its PID file.
 */
export function writePidFile (path: string, log: Logger): boolean {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, `${process.pid}\n`)
    renameSync(temporary, path)
    debug('wrote %d to %s', process.pid, path)
    return true
  } catch (error) {
    try {
      unlinkSync(temporary)
    } catch {
      // Never created.
    }
    log.error({ err: error, pidFile: path }, `graceful: could not write the PID file ${path}: ${(error as Error).message}`)
    return false
  }
}
