// The service's own routes, the part that is yours: server.ts registers graceful before them. The
// benchmark serves these very routes (bench/servers/fastify-*.ts), so its figures are this app's.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'

const maxSlowMs = 60_000

export function routes (app: FastifyInstance): void {
  app.get('/', async (_request, reply) => reply.type('text/plain').send('hello\n'))

  // A route like yours: a JSON body parsed, ~1 ms of awaited work (a database call), JSON back.
  app.post<{ Body: { items?: { qty: number, price: number }[] } }>('/order', async (request) => {
    const items = request.body.items ?? []
    await sleep(1)
    return { id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) }
  })

  app.get<{ Querystring: { ms?: string } }>('/slow', async (request, reply) => {
    const ms = Math.min(Math.max(Number(request.query.ms ?? 100) || 0, 0), maxSlowMs)
    await sleep(ms)
    return reply.type('text/plain').send(`slow ${ms}\n`)
  })
}
