/**
 * The first own symbol of `object` with this description, or `undefined`.
 * How the private `kSomething` symbols of Node and of frameworks (Fastify's
 * `fastify.serverBindings`) are found: they are never exported, only
 * described. Whoever calls it owns one field and its fallback, in that
 * package's `*-internals.ts` (Node's: support/node-internals.ts).
 *
 * @example
 * const key = symbolNamed(app, 'fastify.serverBindings')
 * const bindings = key === undefined ? undefined : app[key]
 */
export function symbolNamed (object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((symbol) => symbol.description === description)
}
