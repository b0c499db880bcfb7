import { describe, expect, it } from 'vitest'
import { startNestApp } from '../../../test/targets/nestjs.js'
import { sendRequest } from '../../../test/helpers/http-request.js'

describe.each(['express', 'fastify'] as const)('smoke %s', (platform) => {
  it('serves', async () => {
    await using app = await startNestApp(platform, { options: { signals: false, exit: false } })
    expect((await sendRequest(app.port, '/fast')).body).toBe('fast')
    const ready = await sendRequest(app.port, '/readyz')
    expect(ready.status).toBe(200)
    expect((await sendRequest(app.port, '/livez')).body).toBe('{"status":"ok"}')
    const boom = await sendRequest(app.port, '/boom')
    expect(boom.status).toBe(500)
    const summary = app.graceful.shutdown()
    await app.close()
    console.log(await summary, app.closeHookRuns())
  })
})
