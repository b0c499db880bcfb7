import express5 from 'express'
import express4 from 'express4'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { deferred, inProcess, listening, openConnection, patience, within } from '@graceful/test-kit'
import { graceful } from './index.js'

type ExpressFactory = typeof express5
const majors = [
  { name: 'express@4', express: express4 as unknown as ExpressFactory },
  { name: 'express@5', express: express5 },
]

describe.each(majors)('the gate does not depend on where g is mounted — $name', ({ express }) => {
  it('mounted last, after app.set() and routes: settings hold, and a late request still gets the draining 503', async () => {
    const g = graceful(inProcess)
    const app = express()
    app.set('strict routing', true)
    const slow = deferred()
    app.get('/fast', (_req, res) => { res.type('text/plain').send('fast') })
    app.get('/stream', (_req, res) => {
      res.type('text/plain').write('start\n')
      void slow.promise.then(() => res.end('end\n'))
    })
    app.use(g)
    onTestFinished(async () => { await g.graceful.force('teardown') })
    await using server = await listening(g.listen(app, 0, '127.0.0.1'))
    const port = server.port
    await using conn = await openConnection(port)
    expect((await conn.request('/fast')).status).toBe(200)
    // Strict routing, set before the first use(), still applies.
    expect((await conn.request('/fast/')).status).toBe(404)
    expect((await conn.request('/livez')).status).toBe(200)
    // Busy at the trigger with a response already started (not in the grace window, where a
    // racing request is served): the request pipelined behind it arrives late and gets the 503.
    const before = conn.bytesReceived
    conn.send('/stream')
    await vi.waitFor(() => expect(conn.bytesReceived, 'the stream to start').toBeGreaterThan(before), patience)
    const summary = g.shutdown()
    conn.send('/fast')
    await vi.waitFor(() => expect(g.graceful.stats().inFlight, 'the pipelined request').toBe(2), patience)
    slow.resolve()
    expect((await conn.response()).status).toBe(200)
    const late = await conn.response()
    expect(late.status).toBe(503)
    expect(JSON.parse(late.body)).toMatchObject({ code: 'ERR_GRACEFUL_DRAINING' })
    expect((await within(summary, 5000, 'the summary')).requests.rejected).toBe(1)
  })

  it('mounted where the quick start shows it, after app.set(): case sensitive routing and the query parser hold', async () => {
    const g = graceful(inProcess)
    const app = express()
    app.set('case sensitive routing', true)
    app.set('query parser', 'simple')
    app.use(g)
    app.get('/Items', (req, res) => { res.json(req.query) })
    onTestFinished(async () => { await g.graceful.force('teardown') })
    await using server = await listening(g.listen(app, 0, '127.0.0.1'))
    await using conn = await openConnection(server.port)
    expect((await conn.request('/items')).status).toBe(404)
    // The simple parser reads `a[b]=1` as one key; the extended one would nest it.
    expect(JSON.parse((await conn.request('/Items?a[b]=1')).body)).toEqual({ 'a[b]': '1' })
  })

  it('why not first: mounted right after express(), settings made later are ignored (Express builds its router at the first use)', async () => {
    const g = graceful(inProcess)
    const app = express()
    app.use(g)
    app.set('case sensitive routing', true)
    app.get('/Items', (_req, res) => { res.send('items') })
    onTestFinished(async () => { await g.graceful.force('teardown') })
    await using server = await listening(g.listen(app, 0, '127.0.0.1'))
    await using conn = await openConnection(server.port)
    expect((await conn.request('/items')).status).toBe(200)
  })
})
