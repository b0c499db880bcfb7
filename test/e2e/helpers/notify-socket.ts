import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Processes, Started } from '@graceful/test-kit/processes'

// What systemd's end of NOTIFY_SOCKET does, for tests (CI has no systemd as
// PID 1): a unix datagram socket that prints each message it receives, with
// CLOCK_MONOTONIC in µs at receipt, as `msg <json text> <µs>`. It closes every
// descriptor a message carries: `systemd-notify` sends BARRIER=1 with a pipe
// and waits until systemd closes it (as systemd does once it processed what
// came before). Python 3, because Node cannot open a unix datagram socket.
const listener = String.raw`
import array, json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('bound', flush=True)
while True:
    data, ancillary, _flags, _address = s.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print('msg', json.dumps(data.decode()), time.monotonic_ns() // 1000, flush=True)
`

/** One message as systemd would parse it: `KEY=VALUE` lines. */
export interface NotifyMessage { text: string, fields: Record<string, string>, receivedUs: bigint }

/** The systemd-notify binary, or null when it is not installed (Debian's `systemd` package has it). */
export function findSystemdNotify (): string | null {
  for (const candidate of ['/usr/bin/systemd-notify', '/bin/systemd-notify']) if (existsSync(candidate)) return candidate
  const which = spawnSync('sh', ['-c', 'command -v systemd-notify'], { encoding: 'utf8' })
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : null
}

/** True when `python3` runs (the listener's language). */
export function hasPython3 (): boolean {
  return spawnSync('python3', ['--version']).status === 0
}

/** Starts the listener on `path`; resolves once it is bound. Its messages, without BARRIER=1, in order. */
export async function notifySocket (processes: Processes, path: string): Promise<{ started: Started, messages: () => NotifyMessage[] }> {
  const started = processes.spawn('notify socket', 'python3', ['-c', listener, path])
  await started.line(/^bound$/, 10_000)
  const messages = () => started.lines.flatMap((line): NotifyMessage[] => {
    const match = /^msg (".*") (\d+)$/.exec(line)
    if (!match) return []
    const text = JSON.parse(match[1] ?? '""') as string
    if (text === 'BARRIER=1') return []
    const fields = Object.fromEntries(text.split('\n').filter(Boolean).map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)]))
    return [{ text, fields, receivedUs: BigInt(match[2] ?? '0') }]
  })
  return { started, messages }
}
