import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/**
 * Upgraded sockets (WebSocket): told through notify hooks, waited for, and
 * destroyed at the deadline. Node changes what it does with upgrade requests
 * when an 'upgrade' listener exists, so they are tracked only on servers whose
 * application handles upgrades itself.
 */
export function createUpgrades (changed: () => void, leaveHttp1: (socket: Socket) => void) {
  const upgraded = new Set<Socket>()

  function onUpgradedClose (this: Socket): void {
    upgraded.delete(this)
    changed()
  }

  return {
    onUpgrade (_req: IncomingMessage, socket: Socket): void {
      leaveHttp1(socket)
      upgraded.add(socket)
      socket.on('close', onUpgradedClose)
    },
    destroyAll (): void {
      for (const socket of upgraded) socket.destroy()
    },
    get size () { return upgraded.size },
  }
}
