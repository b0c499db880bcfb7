import { describe, expectTypeOf, it } from 'vitest'
import { createGraceful, type GracefulEvents, type GracefulOptions, type ReloadOptions, type ReloadResult } from '../../index.js'

describe('reload types', () => {
  it('takes true or an object, resolves to a result, narrows on ok', async () => {
    expectTypeOf<{ reload: true }>().toMatchTypeOf<GracefulOptions>()
    expectTypeOf<{ reload: { signal: 'SIGUSR2', timeout: 5000, readinessDelay: 0 } }>().toMatchTypeOf<GracefulOptions>()
    expectTypeOf<{ signal: false }>().toMatchTypeOf<ReloadOptions>()
    const g = createGraceful({ reload: true })
    expectTypeOf(g.reload()).toEqualTypeOf<Promise<ReloadResult>>()
    const result = await g.reload()
    if (result.ok) expectTypeOf(result.pid).toEqualTypeOf<number>()
    else expectTypeOf(result.code).toEqualTypeOf<number | null>()
    expectTypeOf<GracefulEvents['reloadFailed'][0]['reason']>().toEqualTypeOf<string>()
  })
})
