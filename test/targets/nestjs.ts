import type { Target } from '../helpers/target.js'
import type { NestPlatform } from './nestjs-app.js'

// Loaded on first use: every forked child imports the target list, and Nest's
// packages would add seconds to the start of the Express or Koa children too.
function nestTarget (platform: NestPlatform): Target {
  return {
    name: `nestjs-${platform}`,
    start: async (spec) => (await import('./nestjs-app.js')).startNestApp(platform, spec),
  }
}

/** NestJS as users write it: `GracefulModule.forRoot()` + `enableGracefulShutdown(app)`, `app.close()` to stop. */
export const nestExpressTarget: Target = nestTarget('express')
export const nestFastifyTarget: Target = nestTarget('fastify')
