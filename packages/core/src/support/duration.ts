import { invalidOption } from './errors.js'

/** The longest delay a Node.js timer holds: above it, `setTimeout` fires after 1 ms. */
export const maxTimerMs = 2 ** 31 - 1

export function duration (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > maxTimerMs) {
    throw invalidOption(name, `a finite, non-negative number of milliseconds, at most ${maxTimerMs} (what a timer holds)`, value)
  }
  return value
}
