import { checks, type Backend } from './haproxy.js'

/** A gRPC backend: calls go to `port` (h2c), HAProxy's health check to `checkPort` (the app's HTTP `/readyz`). */
export interface GrpcBackend extends Backend { checkPort: number }

/**
 * {@link haproxyConfig}'s gRPC twin: the same timings, retries and checks, in
 * `mode http` end to end over HTTP/2 cleartext (gRPC needs HTTP/2 and trailers):
 *
 * - the frontend speaks h2 (prior knowledge, as gRPC clients do: `bind … proto h2`);
 * - each server is reached over h2 (`proto h2`), connections shared between clients;
 * - the health check is graceful's HTTP `/readyz` on the app's side port
 *   (`check port … check-proto h1`), not the `grpc.health.v1` service: HAProxy 2.6
 *   has no gRPC check, and a `Health/Check` request is a length-prefixed protobuf
 *   body with NUL bytes that `http-check send` cannot write. Both flip at the same
 *   moment (graceful's trigger), so what HAProxy sees is the same.
 *   `check-proto h1` has to be on each `server` line after `proto h2`: HAProxy 2.6
 *   runs the check over h2 (a "Socket error" against an HTTP/1 port) when it is on
 *   `default-server`.
 */
export function grpcHaproxyConfig (options: { frontend: string, admin: string, backends: readonly GrpcBackend[] }): string {
  return `global
  stats socket ${options.admin} mode 600 level admin
  log stderr format raw local0 info

defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout check ${checks.timeoutMs}ms
  retries 3
  option redispatch

frontend lb
  bind unix@${options.frontend} proto h2
  default_backend app

backend app
  balance roundrobin
  http-reuse always
  option httpchk
  http-check send meth GET uri /readyz
  http-check expect status 200
  default-server check inter ${checks.interMs}ms fall ${checks.fall} rise ${checks.rise}
${options.backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port} proto h2 check-proto h1 port ${backend.checkPort}`).join('\n')}
`
}
