import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'

export interface Machine {
  nproc: number
  cpu: string
  memory: string
  node: string
  kernel: string
  date: string
  /** The commit measured (short hash, `-dirty` with uncommitted changes); absent from results written before it existed. */
  code?: string
  load: string
  /** `ulimit -n`: soft and hard. */
  files: { soft: number, hard: number }
}

export function machine (): Machine {
  return {
    nproc: Number(sh('nproc')) || cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    kernel: `Linux ${release()}`,
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    code: sh('git describe --always --dirty --abbrev=10') || 'unknown',
    load: loadavg().map((n) => n.toFixed(2)).join(' '),
    files: fileLimits(),
  }
}

export function fileLimits (): { soft: number, hard: number } {
  const parse = (text: string) => text === 'unlimited' ? Infinity : Number(text)
  return { soft: parse(sh('ulimit -n')), hard: parse(sh('ulimit -Hn')) }
}

/** Whether a child may be given `ulimit -n n` (needs n ≤ the hard limit, or root). */
export function canRaiseFiles (n: number): boolean {
  try {
    execFileSync('/bin/sh', ['-c', `ulimit -n ${n}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function sh (command: string): string {
  try {
    return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}
