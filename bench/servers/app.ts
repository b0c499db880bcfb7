// What every bench server shares: the environment contract of the examples
// (PORT, HOST, TIMEOUT, READINESS_DELAY, GRACEFUL=0, one `listening <port>`
// line on stdout), and the node:http app the node:http libraries wrap. The
// Fastify, Express and Koa servers serve their example's own routes
// (examples/*/routes.ts), so that only the shutdown library differs between two
// servers of a family.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

const maxSlowMs = 60_000

export const env = {
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST || '127.0.0.1',
  timeout: Number(process.env.TIMEOUT || 10_000),
  readinessDelay: Number(process.env.READINESS_DELAY || 0),
  graceful: process.env.GRACEFUL !== '0',
}

function slowMs (url: string): number {
  const query = url.indexOf('?')
  const ms = query === -1 ? NaN : Number(new URLSearchParams(url.slice(query + 1)).get('ms'))
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), maxSlowMs) : 100
}

/** The node:http application: `/` answers at once, `/slow?ms=N` after N ms. */
export function app (req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/'
  if (url === '/' || url.startsWith('/?')) return text(res, 200, 'hello\n')
  if (url === '/slow' || url.startsWith('/slow?')) {
    const ms = slowMs(url)
    setTimeout(() => text(res, 200, `slow ${ms}\n`), ms)
    return
  }
  if (url === '/order' && req.method === 'POST') return order(req, res)
  text(res, 404, 'not found\n')
}

/** The realistic route: a JSON body parsed, ~1 ms of awaited work, JSON back. */
function order (req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const total = orderTotal(JSON.parse(Buffer.concat(chunks).toString()) as OrderBody)
    setTimeout(() => {
      const body = JSON.stringify(total)
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }, 1)
  })
}

interface OrderBody { items?: { qty: number, price: number }[] }
function orderTotal (body: OrderBody) {
  const items = body.items ?? []
  return { id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) }
}

function text (res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Listens on HOST:PORT and prints the `listening <port>` line. */
export function listen (server: Server): void {
  server.listen(env.port, env.host, () => announce(server))
}

export function announce (server: Server): void {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : address}\n`)
}
