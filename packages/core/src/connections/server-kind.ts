// What kind of server was attached, told without `instanceof` (which would load what it names).

/**
 * tls.Server and what extends it (https, http2's secure server), told by its
 * API rather than `instanceof`: importing node:tls would load the TLS stack
 * (and grow the heap every GC walks) in apps that never use it.
 */
export function isTlsServer (server: object): boolean {
  return typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function'
}

export function isHttp2Server (server: object): boolean {
  for (let proto = Object.getPrototypeOf(server); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name
    if (name === 'Http2Server' || name === 'Http2SecureServer') return true
  }
  return false
}

