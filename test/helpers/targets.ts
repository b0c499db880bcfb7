import type { Target } from './target.js'
import { nodeHttpTarget } from '../targets/node-http.js'
import { express4Target, express5Target } from '../targets/express.js'
import { fastifyTarget } from '../targets/fastify.js'
import { koa2Target, koa3Target } from '../targets/koa.js'
import { nestExpressTarget, nestFastifyTarget } from '../targets/nestjs.js'

/**
 * Every integration the conformance suite runs against. A behaviour one of
 * them lacks is a failing test here, not a footnote.
 */
export const targets: Target[] = [nodeHttpTarget, fastifyTarget, express4Target, express5Target, koa2Target, koa3Target, nestExpressTarget, nestFastifyTarget]
