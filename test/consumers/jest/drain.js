'use strict'
// What every adapter's Jest test does: hold one request, start the shutdown,
// see the request complete with `Connection: close`, then a clean summary.
const http = require('node:http')

function deferred () {
  let resolve
  const promise = new Promise((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

function get (port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body }))
    })
    req.on('error', reject)
  })
}

/** A request the test holds: the handler awaits `hold()`, the test awaits `entered`, then `release()`s it. */
function holder () {
  const entered = deferred()
  const gate = deferred()
  return { entered: entered.promise, release: gate.resolve, hold: () => { entered.resolve(); return gate.promise } }
}

/**
 * @param {{ port: number, core: import('@graceful/core').Graceful, shutdown: () => Promise<import('@graceful/core').ShutdownSummary>, held: ReturnType<typeof holder>, server: () => import('node:net').Server | undefined }} app
 */
async function drainOneRequest (app) {
  expect((await get(app.port, '/readyz')).status).toBe(200)
  const response = get(app.port, '/')
  await app.held.entered
  const drainStarted = new Promise((resolve) => app.core.once('drain', resolve))
  const summary = app.shutdown()
  await drainStarted
  app.held.release()
  expect(await response).toEqual({ status: 200, connection: 'close', body: 'hello' })
  const result = await summary
  expect(result.outcome).toBe('clean')
  expect(result.exitCode).toBe(0)
  expect(result.requests.completed).toBe(1)
  expect(app.server()?.listening ?? false).toBe(false)
}

module.exports = { drainOneRequest, holder }
