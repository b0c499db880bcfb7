// The Koa example's routes (examples/koa/routes.ts) in a bare Koa app: the app the Koa
// alternatives wrap, and its bare baseline. Health routes as the example has them without graceful.
import Koa from 'koa'
import { routes } from '../../examples/koa/routes.js'

export function koaApp (): Koa {
  const app = new Koa()
  app.use(async (ctx, next) => {
    if (ctx.path === '/livez' || ctx.path === '/readyz') ctx.body = { status: 'ok' }
    else await next()
  })
  app.use(routes)
  return app
}
