import { linkSync, renameSync, unlinkSync } from 'node:fs'
import { Server as NetServer } from 'node:net'
import type { AttachableServer } from '../../types/handle.js'
import { isInherited } from './inherit.js'
import type { Logger } from '../../types/lifecycle.js'

/**
 * The old process's last step of a hand-over: stop accepting on `server`
 * (the new process accepts on the same socket from now on). net.Server's
 * close: node:http's own would also end idle connections mid-reuse.
 *
 * A UNIX socket this process bound itself keeps its path: libuv unlinks the
 * path of a pipe it bound when the handle closes (uv__pipe_close in
 * https://github.com/libuv/libuv/blob/v1.x/src/unix/pipe.c), which would
 * leave the new process listening on a socket nobody can reach. So the path
 * gets a second name first (a hard link to the same socket, in the same
 * folder), and that name is renamed back over the path right after the
 * close, in the same synchronous step. A socket opened from an inherited
 * descriptor has no path to unlink: nothing to do.
 */
export function stopListening (server: AttachableServer, log: Logger): void {
  if (!server.listening) return
  const path = server.address()
  if (typeof path !== 'string' || isInherited(server)) {
    NetServer.prototype.close.call(server)
    return
  }
  const keep = `${path}.graceful-${process.pid}`
  try {
    linkSync(path, keep)
  } catch (error) {
    log.warn({ err: error, path }, `graceful: reload: could not keep the path of ${path} (${(error as Error).message}); it goes when this process stops listening`)
    NetServer.prototype.close.call(server)
    return
  }
  NetServer.prototype.close.call(server)
  try {
    renameSync(keep, path)
  } catch (error) {
    log.error({ err: error, path }, `graceful: reload: could not restore ${path}: ${(error as Error).message}`)
    try { unlinkSync(keep) } catch { /* already gone */ }
  }
}
