import { describe, expect, it } from 'vitest'
import { createWaiter } from './waiter.js'

describe('waiter', () => {
  it('never ends a wait before its deadline by Date.now(), the clock the summary reports', async () => {
    const waiter = createWaiter(() => false)
    for (let i = 0; i < 40; i++) {
      const until = Date.now() + 5 + (i % 7)
      const met = await waiter.waitFor(() => false, until)
      expect(met).toBe(false)
      expect(Date.now()).toBeGreaterThanOrEqual(until)
    }
    waiter.clear()
  })

  it('ends as soon as a wake finds the condition true, and at once when aborted', async () => {
    let ready = false
    let aborted = false
    const waiter = createWaiter(() => aborted)
    const first = waiter.waitFor(() => ready, Date.now() + 60_000)
    ready = true
    waiter.wake()
    expect(await first).toBe(true)
    const second = waiter.waitFor(() => false, Date.now() + 60_000)
    aborted = true
    waiter.wake()
    expect(await second).toBe(false)
    waiter.clear()
  })
})
