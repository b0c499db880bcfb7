// The Express example's routes (examples/express/routes.ts) in a bare Express app: the baseline
// the Express alternatives are compared with and the app they wrap, so only the shutdown library
// differs. Health routes as the example has them without graceful.
import express, { type Express } from 'express'
import { routes } from '../../examples/express/routes.js'

export function expressApp (): Express {
  const app = express()
  app.disable('x-powered-by')
  app.get(['/livez', '/readyz'], (_req, res) => { res.json({ status: 'ok' }) })
  routes(app)
  return app
}
