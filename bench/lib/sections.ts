// What each run measures. `pnpm bench` is what a change to the product is checked
// against and stays under 15 minutes on two cores; `pnpm bench --long` holds the
// trials that take most of the time. The hot path is in both, each run with its
// own families (lib/targets.ts `long`).

/** Every section, in the order a run takes them. */
export const sections = ['overhead', 'idle', 'drain', 'second-signal', 'scale', 'heap', 'protocols', 'reload', 'fleet'] as const
export type Section = typeof sections[number]

/** The sections that run only with `--long`: idle shutdown at 1,000 and 10,000 connections, 10,000 draining, the heap over many requests. */
export const longSections: readonly Section[] = ['idle', 'scale', 'heap']

/** The sections of the default run, or of `--long`. */
export function sectionsOf (long: boolean): Section[] {
  return sections.filter((section) => section === 'overhead' || longSections.includes(section) === long)
}
