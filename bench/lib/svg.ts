// The drain timeline, hand-written SVG: requests finished per 50 ms bin,
// stacked by outcome, one row per framework, plugin on the left and the bare
// framework on the right, SIGTERM at 0 and the exit marked. Lost requests are
// what the eye must find first: they sit at the bottom of each stack (where the
// √ scale gives the first requests the most height), each bin that has any gets
// a red marker with its count, and every panel title says how many were lost.
import { outcomeLabels, outcomes, type Outcome } from '@graceful/test-kit/client'

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
  completed: '#5fb883',
  rejected: '#4a86d8',
  rejectedKeepAlive: '#9cc0ee',
  refused: '#c4c4c4',
  unread: '#f0a030',
  lost: '#d0021b',
}

/**
 * Bottom of the stack first: the failures, then what was served, then the
 * clean rejections. On a √ scale the bottom of a stack gets the most height
 * per request, so a handful of lost requests under a thousand others shows.
 */
const stackOrder: readonly Outcome[] = ['lost', 'unread', 'completed', 'rejected', 'rejectedKeepAlive', 'refused']
/** What each outcome means, in a few words, for the legend. */
const legendNotes: Record<Outcome, string> = {
  lost: 'accepted, then reset',
  unread: 'keep-alive race, never parsed',
  refused: 'listener closed (retry-safe)',
  rejectedKeepAlive: '503, connection kept',
  rejected: '503 + Connection: close',
  completed: 'served',
}

const binMs = 50
const panelW = 460
const panelH = 170
const margin = { left: 64, right: 20, top: 40, bottom: 46 }
const gapX = 28
const rowGap = 24
const legendH = 74
const ink = '#222'
const muted = '#444'

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Renders the chart. `from`: ms before SIGTERM shown. */
export function timelineSvg (rows: TimelineRow[], title: string, from = -300): string {
  const columns = Math.max(1, ...rows.map((row) => row.panels.length))
  const width = margin.left + columns * panelW + (columns - 1) * (gapX + margin.left) + margin.right
  const height = legendH + rows.length * (margin.top + panelH + margin.bottom) + (rows.length - 1) * rowGap + 10
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13" fill="${ink}">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${margin.left}" y="22" font-size="16" font-weight="700">${esc(title)}</text>`)
  // Legend, two lines: the failure first, in red and bold.
  let lx = margin.left
  let ly = 44
  for (const outcome of stackOrder) {
    const label = `${outcomeLabels[outcome]}: ${legendNotes[outcome]}`
    const w = 34 + label.length * (outcome === 'lost' ? 8.2 : 7.3)
    if (lx + w > width - margin.right) {
      lx = margin.left
      ly += 20
    }
    out.push(`<rect x="${lx}" y="${ly - 11}" width="13" height="13" fill="${colors[outcome]}"/>`)
    out.push(`<text x="${lx + 18}" y="${ly}"${outcome === 'lost' ? ` font-weight="700" fill="${colors.lost}"` : ''}>${esc(label)}</text>`)
    lx += w
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
      const lost = panel.points.filter((p) => p.outcome === 'lost').length
      out.push(`<text x="${x0}" y="${y0 - 12}" font-size="14" font-weight="700">${esc(`${row.label}: ${panel.title}`)}</text>`)
      out.push(lost > 0
        ? `<text x="${x0 + panelW}" y="${y0 - 12}" text-anchor="end" font-size="15" font-weight="800" fill="${colors.lost}">${lost} LOST</text>`
        : `<text x="${x0 + panelW}" y="${y0 - 12}" text-anchor="end" font-size="13" font-weight="600" fill="#1e7a45">0 lost</text>`)
      // grid and y axis
      for (const value of sqrtTicks(max, panelH)) {
        const y = yOf(value)
        out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`)
        out.push(`<text x="${x0 - 7}" y="${y + 4.5}" text-anchor="end" fill="${muted}">${Math.round(value)}</text>`)
      }
      out.push(`<text transform="translate(${x0 - 46} ${y0 + panelH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${muted}">requests / ${binMs} ms (√)</text>`)
      // bars
      const barW = (binMs / (to - from)) * panelW
      const markers: string[] = []
      stacks[c]!.forEach((bin, i) => {
        let base = 0
        const x = xOf(from + i * binMs) + 0.5
        for (const outcome of stackOrder) {
          const n = bin[outcome]
          if (n === 0) continue
          const y = yOf(base + n)
          out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, barW - 1).toFixed(1)}" height="${(yOf(base) - y).toFixed(1)}" fill="${colors[outcome]}"><title>${n} ${esc(outcomeLabels[outcome])} at ${from + i * binMs}…${from + (i + 1) * binMs} ms</title></rect>`)
          base += n
        }
        if (bin.lost > 0) {
          // Drawn after every bar so no neighbour covers it.
          const cx = x + barW / 2
          const tip = Math.max(y0 + 14, yOf(base) - 3)
          markers.push(`<path d="M ${(cx - 6).toFixed(1)} ${(tip - 10).toFixed(1)} L ${(cx + 6).toFixed(1)} ${(tip - 10).toFixed(1)} L ${cx.toFixed(1)} ${tip.toFixed(1)} Z" fill="${colors.lost}"/>`)
          markers.push(`<text x="${cx.toFixed(1)}" y="${(tip - 13).toFixed(1)}" text-anchor="middle" font-size="12" font-weight="700" fill="${colors.lost}">${bin.lost}</text>`)
        }
      })
      // x axis
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y0 + panelH}" y2="${y0 + panelH}" stroke="${ink}"/>`)
      const step = niceStep(to - from)
      for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
        out.push(`<line x1="${xOf(t)}" x2="${xOf(t)}" y1="${y0 + panelH}" y2="${y0 + panelH + 5}" stroke="${ink}"/>`)
        out.push(`<text x="${xOf(t)}" y="${y0 + panelH + 19}" text-anchor="middle" fill="${muted}">${t}</text>`)
      }
      out.push(`<text x="${x0 + panelW / 2}" y="${y0 + panelH + 38}" text-anchor="middle" font-size="12" fill="${muted}">ms from SIGTERM (by finish time)</text>`)
      // markers
      out.push(`<line x1="${xOf(0)}" x2="${xOf(0)}" y1="${y0 - 2}" y2="${y0 + panelH}" stroke="${ink}" stroke-dasharray="4 3"/>`)
      out.push(`<text x="${xOf(0) + 4}" y="${y0 + 10}" font-size="12" font-weight="600">SIGTERM</text>`)
      const exitX = xOf(panel.exitMs)
      out.push(`<line x1="${exitX}" x2="${exitX}" y1="${y0 - 2}" y2="${y0 + panelH}" stroke="#6a1fc2" stroke-width="2"/>`)
      const exitLabel = `exit ${Math.round(panel.exitMs)} ms`
      // Near the right edge the label goes to the left of the line.
      const right = exitX + 4 + exitLabel.length * 7 > x0 + panelW
      out.push(`<text x="${right ? exitX - 4 : exitX + 4}" y="${y0 + 26}"${right ? ' text-anchor="end"' : ''} font-size="12" font-weight="600" fill="#6a1fc2">${exitLabel}</text>`)
      out.push(...markers)
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

/** Ticks at least 16 px apart on the √ scale, so their labels never overlap. */
function sqrtTicks (max: number, height: number): number[] {
  const candidates = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000].filter((n) => n < max)
  const ticks: number[] = []
  let lastY = Infinity
  for (const value of [...candidates, max]) {
    const y = height - Math.sqrt(value / max) * height
    if (lastY - y < 16 && value !== max) continue
    if (lastY - y < 16 && value === max) ticks.pop()
    ticks.push(value)
    lastY = y
  }
  return ticks
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
