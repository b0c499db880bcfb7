// The drain timeline, hand-written SVG: requests finished per 50 ms bin,
// stacked by outcome, one row per framework, plugin on the left and the bare
// framework on the right, SIGTERM at 0 and the exit marked.
import { outcomeLabels, outcomes, type Outcome } from './client.js'

export interface TimelinePanel {
  title: string
  /** Finish time of each request, ms relative to SIGTERM, with its outcome. */
  points: { t: number, outcome: Outcome }[]
  /** SIGTERM → exit, ms. */
  exitMs: number
}

export interface TimelineRow {
  label: string
  panels: TimelinePanel[]
}

const colors: Record<Outcome, string> = {
  completed: '#2e9e5b',
  rejected: '#3b7dd8',
  rejectedKeepAlive: '#8fb8ee',
  refused: '#a6a6a6',
  unread: '#f0a030',
  lost: '#d62f2f',
}

const binMs = 50
const panelW = 440
const panelH = 150
const margin = { left: 56, right: 16, top: 30, bottom: 34 }
const gapX = 24
const rowGap = 28
const legendH = 44

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Renders the chart. `from`: ms before SIGTERM shown. */
export function timelineSvg (rows: TimelineRow[], title: string, from = -300): string {
  const columns = Math.max(1, ...rows.map((row) => row.panels.length))
  const width = margin.left + columns * panelW + (columns - 1) * (gapX + margin.left) + margin.right
  const height = legendH + rows.length * (margin.top + panelH + margin.bottom) + (rows.length - 1) * rowGap + 10
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${margin.left}" y="18" font-size="14" font-weight="600">${esc(title)}</text>`)
  let lx = margin.left
  for (const outcome of outcomes) {
    out.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${colors[outcome]}"/>`)
    out.push(`<text x="${lx + 14}" y="37">${esc(outcomeLabels[outcome])}</text>`)
    lx += 24 + outcomeLabels[outcome].length * 6.5
  }

  rows.forEach((row, r) => {
    const top = legendH + r * (margin.top + panelH + margin.bottom + rowGap)
    const to = Math.max(...row.panels.map((p) => p.exitMs)) + 300
    const bins = Math.ceil((to - from) / binMs)
    const stacks = row.panels.map((panel) => binPoints(panel.points, from, bins))
    const max = niceMax(Math.max(1, ...stacks.flat().map((bin) => outcomes.reduce((sum, o) => sum + bin[o], 0))))
    row.panels.forEach((panel, c) => {
      const x0 = margin.left + c * (panelW + gapX + margin.left)
      const y0 = top + margin.top
      const xOf = (t: number) => x0 + ((t - from) / (to - from)) * panelW
      // Square-root scale: the few slow requests finishing during the drain stay visible beside thousands of fast ones.
      const yOf = (n: number) => y0 + panelH - Math.sqrt(n / max) * panelH
      out.push(`<text x="${x0}" y="${y0 - 8}" font-size="12" font-weight="600">${esc(`${row.label}: ${panel.title}`)}</text>`)
      // grid and y axis
      for (const value of sqrtTicks(max)) {
        const y = yOf(value)
        out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`)
        out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" fill="#555">${Math.round(value)}</text>`)
      }
      // bars
      const barW = (binMs / (to - from)) * panelW
      stacks[c]!.forEach((bin, i) => {
        let base = 0
        for (const outcome of outcomes) {
          const n = bin[outcome]
          if (n === 0) continue
          const y = yOf(base + n)
          out.push(`<rect x="${(xOf(from + i * binMs) + 0.5).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, barW - 1).toFixed(1)}" height="${(yOf(base) - y).toFixed(1)}" fill="${colors[outcome]}"><title>${n} ${esc(outcomeLabels[outcome])} at ${from + i * binMs}…${from + (i + 1) * binMs} ms</title></rect>`)
          base += n
        }
      })
      // x axis
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y0 + panelH}" y2="${y0 + panelH}" stroke="#333"/>`)
      const step = niceStep(to - from)
      for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
        out.push(`<line x1="${xOf(t)}" x2="${xOf(t)}" y1="${y0 + panelH}" y2="${y0 + panelH + 4}" stroke="#333"/>`)
        out.push(`<text x="${xOf(t)}" y="${y0 + panelH + 16}" text-anchor="middle" fill="#555">${t}</text>`)
      }
      out.push(`<text x="${x0 + panelW}" y="${y0 + panelH + 30}" text-anchor="end" fill="#555">ms from SIGTERM · requests per ${binMs} ms by finish time (√ scale)</text>`)
      // markers
      out.push(`<line x1="${xOf(0)}" x2="${xOf(0)}" y1="${y0 - 2}" y2="${y0 + panelH}" stroke="#222" stroke-dasharray="4 3"/>`)
      out.push(`<text x="${xOf(0) + 3}" y="${y0 + 8}" fill="#222">SIGTERM</text>`)
      out.push(`<line x1="${xOf(panel.exitMs)}" x2="${xOf(panel.exitMs)}" y1="${y0 - 2}" y2="${y0 + panelH}" stroke="#7a2bd1" stroke-width="1.5"/>`)
      out.push(`<text x="${xOf(panel.exitMs) + 3}" y="${y0 + 20}" fill="#7a2bd1">exit (${Math.round(panel.exitMs)} ms)</text>`)
    })
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function binPoints (points: TimelinePanel['points'], from: number, bins: number): Record<Outcome, number>[] {
  const result = Array.from({ length: bins }, () => Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>)
  for (const { t, outcome } of points) {
    const i = Math.floor((t - from) / binMs)
    if (i >= 0 && i < bins) result[i]![outcome]++
  }
  return result
}

function sqrtTicks (max: number): number[] {
  const candidates = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000]
  return [...candidates.filter((n) => n < max && Math.sqrt(n / max) < 0.9), max]
}

function niceMax (value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const f of [1, 2, 2.5, 5, 10]) if (f * magnitude >= value) return f * magnitude
  return 10 * magnitude
}

function niceStep (span: number): number {
  for (const step of [100, 200, 250, 500, 1000, 2000, 5000]) if (span / step <= 8) return step
  return 10_000
}
