// @graceful/test-kit: what every test in this repository shares, imported by name from
// packages/*/src, test/ and bench/. Source only (a private workspace package, never built):
// vitest and tsx load these files as they are.
//
//   deferred.ts       deferred gates (`deferred()`) and bounded waits (`within`, `patience` for vi.waitFor)
//   raw-connection.ts one HTTP/1.1 keep-alive connection driven by hand; `tryConnect`
//   http-request.ts   one request through Node's client, with its whole body; an HTTP/2 stream's reply
//   child.ts          a forked app that gets real signals (test/fixtures/serve.ts); a request it holds
//   server.ts         servers as `await using` resources; `inProcess` options, `inProcessGraceful()`; an h2c session
//   websockets.ts     a `ws` server beside any framework
//   after-test.ts     cleanups and disposables run when the current vitest test finishes
// Subpaths (not re-exported here): /client (the bench client and its classifier), /examples
// (the example apps), /processes (child processes killed by PID). See README.md.
export * from './deferred.js'
export * from './raw-connection.js'
export * from './http-request.js'
export * from './child.js'
export * from './server.js'
export * from './websockets.js'
export * from './after-test.js'
