import net, { type AddressInfo } from 'node:net'

/**
 * A connection-level balancer, as kube-proxy (iptables/IPVS) is: each new
 * client connection goes to the next backend in the pool, and stays there for
 * its whole life. Pooled keep-alive clients behind it keep their connections
 * where they were opened: what `maxConnectionAge` is for. It counts the
 * requests each backend got (a request head ends with an empty line; the
 * load here sends GETs without bodies).
 */
export interface L4Balancer {
  port: number
  /** Backends new connections may go to, by name. */
  setPool: (pool: ReadonlyMap<string, number>) => void
  /** Requests forwarded to each backend name since the last call. */
  take: () => Map<string, number>
  close: () => Promise<void>
}

export async function startL4 (): Promise<L4Balancer> {
  let pool = new Map<string, number>()
  let next = 0
  let counts = new Map<string, number>()
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const names = [...pool.keys()]
    const name = names[next++ % names.length]
    if (name === undefined) return void client.destroy()
    const upstream = net.connect(pool.get(name) ?? 0, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      // A reset on one side is a reset on the other: the client must see what the backend did.
      socket.on('error', () => { (socket === client ? upstream : client).resetAndDestroy() })
    }
    client.on('data', (chunk: Buffer) => {
      let heads = 0
      for (let at = chunk.indexOf('\r\n\r\n'); at !== -1; at = chunk.indexOf('\r\n\r\n', at + 4)) heads++
      counts.set(name, (counts.get(name) ?? 0) + heads)
    })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    setPool: (backends) => { pool = new Map(backends) },
    take: () => {
      const taken = counts
      counts = new Map()
      return taken
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
