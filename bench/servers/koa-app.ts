// The bench routes on Koa: the app the Koa alternatives wrap, and its bare baseline.
import Koa from 'koa'

const maxSlowMs = 60_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function koaApp (): Koa {
  const app = new Koa()
  app.use(async (ctx) => {
    if (ctx.path === '/livez' || ctx.path === '/readyz') {
      ctx.body = { status: 'ok' }
    } else if (ctx.path === '/') {
      ctx.body = 'hello\n'
    } else if (ctx.path === '/order' && ctx.method === 'POST') {
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
  })
  return app
}
