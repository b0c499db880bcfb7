/** A table: a header row and rows of cells. The first column is left-aligned, the others right-aligned. */
export interface Table {
  head: string[]
  rows: string[][]
}

/** Fixed-width text, for the terminal. */
export function textTable ({ head, rows }: Table): string {
  const widths = head.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join('  ').trimEnd()
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** GitHub-flavoured Markdown. */
export function markdownTable ({ head, rows }: Table): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|')
  return [
    `| ${head.map(escape).join(' | ')} |`,
    `|${head.map((_, i) => i === 0 ? ' --- ' : ' ---: ').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n')
}

/** 12345 → `12,345` */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Milliseconds with a precision that fits the size. */
export function ms (n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`
}

/** A ratio with three decimals. */
export const ratio = (n: number): string => Number.isFinite(n) ? n.toFixed(3) : '–'

/** Bytes, in B / KiB / MiB. */
export function bytes (n: number): string {
  const sign = n < 0 ? '-' : ''
  const abs = Math.abs(n)
  if (abs < 1024) return `${sign}${Math.round(abs)} B`
  if (abs < 1024 * 1024) return `${sign}${(abs / 1024).toFixed(1)} KiB`
  return `${sign}${(abs / 1024 / 1024).toFixed(1)} MiB`
}

/** Median of a non-empty list. */
export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `min–max` of a list, formatted with `format`. */
export function spread (values: readonly number[], format: (n: number) => string = ratio): string {
  if (values.length === 0) return '–'
  return `${format(Math.min(...values))}–${format(Math.max(...values))}`
}

/**
 * A one-line status that rewrites itself on a terminal and falls back to
 * plain lines (at most one a second) when the output is a file or a pipe.
 */
export function statusLine (stream: NodeJS.WriteStream = process.stdout) {
  const tty = stream.isTTY === true
  let last = 0
  let shown = false
  return {
    /** Shows `text` now (terminal) or at most once a second (pipe), unless `force`. */
    update (text: string, force = false): void {
      if (tty) {
        stream.write(`\r\x1b[2K${text.slice(0, (stream.columns || 120) - 1)}`)
        shown = true
        return
      }
      const time = Date.now()
      if (!force && time - last < 1000) return
      last = time
      stream.write(`${text}\n`)
    },
    /** Replaces the status with a final line. */
    done (text: string): void {
      if (tty && shown) stream.write('\r\x1b[2K')
      shown = false
      stream.write(`${text}\n`)
    },
  }
}
