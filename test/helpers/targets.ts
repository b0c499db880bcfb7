import type { Target } from './target.js'
import { nodeHttpTarget } from '../targets/node-http.js'

/**
 * Every integration the conformance suite runs against. A behaviour one of
 * them lacks is a failing test here, not a footnote.
 */
export const targets: Target[] = [nodeHttpTarget]
