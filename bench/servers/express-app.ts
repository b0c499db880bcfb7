// The bench routes on Express: the baseline (GRACEFUL=0 … always bare here) and
// the app every Express alternative wraps, so only the shutdown library differs.
import express, { type Express } from 'express'

const maxSlowMs = 60_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function expressApp (): Express {
  const app = express()
  app.disable('x-powered-by')
  app.get(['/livez', '/readyz'], (_req, res) => { res.json({ status: 'ok' }) })
  app.get('/', (_req, res) => { res.type('text/plain').send('hello\n') })
  app.get('/slow', async (req, res) => {
    const ms = Math.min(Math.max(Number(req.query.ms ?? 100) || 0, 0), maxSlowMs)
    await sleep(ms)
    res.type('text/plain').send(`slow ${ms}\n`)
  })
  app.post('/order', express.json(), async (req, res) => {
    const items = (req.body as { items?: { qty: number, price: number }[] }).items ?? []
    await sleep(1)
    res.json({ id: Date.now(), count: items.length, total: items.reduce((sum, item) => sum + item.qty * item.price, 0) })
  })
  return app
}
