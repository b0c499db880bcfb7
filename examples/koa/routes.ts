// The service's own routes, the part that is yours: server.ts adds graceful in front of them. The
// benchmark serves these very routes (bench/servers/koa-app.ts), so its figures are this app's.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Middleware } from 'koa'

const maxSlowMs = 60_000

export const routes: Middleware = async (ctx) => {
  if (ctx.path === '/') {
    ctx.body = 'hello\n'
  } else if (ctx.path === '/order' && ctx.method === 'POST') {
    // A route like yours: a JSON body parsed, ~1 ms of awaited work (a database call), JSON back.
    const chunks: Buffer[] = []
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
    const items = (JSON.parse(Buffer.concat(chunks).toString()) as { items?: { qty: number, price: number }[] }).items ?? []
    await sleep(1)
    ctx.body = { id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) }
  } else if (ctx.path === '/slow') {
    const ms = Math.min(Math.max(Number(ctx.query.ms ?? 100) || 0, 0), maxSlowMs)
    await sleep(ms)
    ctx.body = `slow ${ms}\n`
  }
}
