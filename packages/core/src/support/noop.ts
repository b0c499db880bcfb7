/** Does nothing: the one no-op of the core (a listener that swallows, an empty detach). */
export function noop (): void {}
