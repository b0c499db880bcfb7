// The service's own routes, the part that is yours: server.ts adds graceful around them. The
// benchmark serves these very routes (bench/servers/express-app.ts), so its figures are this app's.
import { setTimeout as sleep } from 'node:timers/promises'
import express, { type Express } from 'express'

const maxSlowMs = 60_000

export function routes (app: Express): void {
  app.get('/', (_req, res) => {
    res.type('text/plain').send('hello\n')
  })

  // Express 5 passes a rejected promise to the error handler.
  app.get('/slow', async (req, res) => {
    const ms = Math.min(Math.max(Number(req.query.ms ?? 100) || 0, 0), maxSlowMs)
    await sleep(ms)
    res.type('text/plain').send(`slow ${ms}\n`)
  })

  // A route like yours: a JSON body parsed, ~1 ms of awaited work (a database call), JSON back.
  app.post('/order', express.json(), async (req, res) => {
    const items = (req.body as { items?: { qty: number, price: number }[] }).items ?? []
    await sleep(1)
    res.json({ id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) })
  })
}
