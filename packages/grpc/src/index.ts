// @graceful/grpc: a @grpc/grpc-js server in the graceful lifecycle.
//   attach.ts   attach(): health flip, tryShutdown at the drain start, UNAVAILABLE then forceShutdown at the deadline
//   calls.ts    call tracking: handlers wrapped at registration, cut calls reported like requests
//   health.ts   the grpc.health.v1 service (grpc-health-check): SERVING → NOT_SERVING
//   options.ts  option validation (the core's invalidOption)
//   types.ts    GrpcOptions and GrpcAttachment, imported by attach.ts and options.ts
//   bind.ts     with reload on: bindAsync through a graceful-owned listener, so a reload hands it over
//   connection-age.ts  maxConnectionAge as grpc-js's own server options
export { attach } from './attach.js'
export { connectionAgeOptions } from './connection-age.js'
export type { ConnectionAgeChannelOptions } from './connection-age.js'
export type { GrpcAttachment, GrpcOptions } from './types.js'
export type { CallType, GrpcCall, ServerCall, StreamingCall } from './calls.js'
