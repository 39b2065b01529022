/**
 * A grid's figures for a month (its whole subtree), as the reports page shows them and the CSV carries them.
 *
 * Gathered from the list endpoints the API has: the grid's actions (newest first, read back to the month),
 * its shops' monthly charity reports and its visits. Months are the reader's (their time zone).
 */
import { api } from '../../api/client'
import type { components } from '../../api/schema'
import { timeZone } from '../../session'

type Action = components['schemas']['Action']

export interface GridReport {
  grid_id: number
  grid_name: string
  /** YYYY-MM in the reader's zone */
  month: string
  actions: number
  by_category: Record<string, number>
  by_level: Record<string, number>
  closed: number
  /** Minutes from report to close, of the actions closed (null when none closed) */
  close_median_minutes: number | null
  close_average_minutes: number | null
  close_longest_minutes: number | null
  /** How many times actions moved up a level, and how many actions did */
  escalations: number
  escalated_actions: number
  charity_claimed: number
  charity_redeemed: number
  visits: number
  visits_follow_up: number
}

const CLOSED = new Set(['verified', 'closed'])

/** The month (YYYY-MM) a moment falls in, in the reader's zone. */
export function monthOf(iso: string | null | undefined, zone = timeZone()): string {
  if (!iso) return ''
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit' })
    .formatToParts(new Date(iso))
  return `${parts.find((p) => p.type === 'year')?.value}-${parts.find((p) => p.type === 'month')?.value}`
}

export function thisMonth(): string {
  return monthOf(new Date().toISOString())
}

function median(values: number[]): number | null {
  if (!values.length) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Every page of a list (at most `pages`), stopping early when `enough` says the rest is older. */
async function pages<T>(ask: (cursor: string | null) => Promise<{ items: T[]; next_cursor: string | null } | undefined>,
  enough: (items: T[]) => boolean = () => false, limit = 20): Promise<T[]> {
  const all: T[] = []
  let cursor: string | null = null
  for (let page = 0; page < limit; page += 1) {
    const data = await ask(cursor)
    if (!data) throw new Error('unavailable')
    all.push(...data.items)
    cursor = data.next_cursor
    if (!cursor || enough(data.items)) break
  }
  return all
}

async function actionsOf(gridId: number, month: string): Promise<Action[]> {
  const all = await pages<Action>(async (cursor) => (await api.GET('/api/v1/actions', {
    params: { query: { grid_id: gridId, limit: 100, ...(cursor ? { cursor } : {}) } as never },
  })).data, (items) => items.some((a) => monthOf(a.created_at) < month))
  return all.filter((a) => monthOf(a.created_at) === month && (a.kind ?? 'single') === 'single')
}

async function charityOf(gridId: number, month: string): Promise<{ claimed: number; redeemed: number }> {
  const shops = await pages(async (cursor) => (await api.GET('/api/v1/merchants', {
    params: { query: { grid_id: gridId, status: 'approved', limit: 100, ...(cursor ? { cursor } : {}) } as never },
  })).data, undefined, 10)
  let claimed = 0
  let redeemed = 0
  // A few at a time: a grid has tens of shops.
  for (let i = 0; i < shops.length; i += 4) {
    const answers = await Promise.all(shops.slice(i, i + 4).map((shop) => api.GET('/api/v1/reports/merchants/{merchant_id}', {
      params: { path: { merchant_id: shop.id ?? 0 }, query: { month } },
    }).then(({ data }) => data).catch(() => undefined)))
    for (const report of answers) {
      claimed += report?.totals?.claims ?? 0
      redeemed += report?.totals?.redemptions ?? 0
    }
  }
  return { claimed, redeemed }
}

async function visitsOf(gridId: number, month: string): Promise<{ visits: number; followUp: number }> {
  const all = await pages(async (cursor) => (await api.GET('/api/v1/visits', {
    params: { query: { grid_id: gridId, limit: 100, ...(cursor ? { cursor } : {}) } as never },
  })).data, undefined, 10)
  const inMonth = all.filter((v) => monthOf(v.visited_at) === month)
  return { visits: inMonth.length, followUp: inMonth.filter((v) => v.needs_follow_up).length }
}

export async function loadReport(gridId: number, gridName: string, month: string): Promise<GridReport> {
  const [actions, charity, visits] = await Promise.all([actionsOf(gridId, month), charityOf(gridId, month),
    visitsOf(gridId, month)])
  const by_category: Record<string, number> = {}
  const by_level: Record<string, number> = { 1: 0, 2: 0, 3: 0 }
  const closeMinutes: number[] = []
  let escalations = 0
  let escalated = 0
  for (const action of actions) {
    by_category[action.category ?? ''] = (by_category[action.category ?? ''] ?? 0) + 1
    by_level[String(action.level ?? 1)] = (by_level[String(action.level ?? 1)] ?? 0) + 1
    escalations += action.escalations ?? 0
    escalated += (action.escalations ?? 0) > 0 ? 1 : 0
    const closedAt = action.closed_at ?? (CLOSED.has(action.state ?? '') ? action.resolved_at : null)
    if (CLOSED.has(action.state ?? '') && closedAt && action.created_at) {
      closeMinutes.push(Math.max(0, (Date.parse(closedAt) - Date.parse(action.created_at)) / 60000))
    }
  }
  const round = (n: number | null) => (n === null ? null : Math.round(n))
  return {
    grid_id: gridId,
    grid_name: gridName,
    month,
    actions: actions.length,
    by_category,
    by_level,
    closed: closeMinutes.length,
    close_median_minutes: round(median(closeMinutes)),
    close_average_minutes: round(closeMinutes.length ? closeMinutes.reduce((a, b) => a + b, 0) / closeMinutes.length : null),
    close_longest_minutes: round(closeMinutes.length ? Math.max(...closeMinutes) : null),
    escalations,
    escalated_actions: escalated,
    charity_claimed: charity.claimed,
    charity_redeemed: charity.redeemed,
    visits: visits.visits,
    visits_follow_up: visits.followUp,
  }
}

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The report as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Chinese): section, item, value. */
export function reportCsv(report: GridReport, labels: { category: (name: string) => string }): string {
  const rows: unknown[][] = [['section', 'item', 'value'],
    ['grid', report.grid_name, report.grid_id],
    ['month', report.month, ''],
    ['actions', 'reported', report.actions]]
  for (const [name, n] of Object.entries(report.by_category)) rows.push(['actions_by_category', labels.category(name) || name, n])
  for (const [level, n] of Object.entries(report.by_level)) rows.push(['actions_by_level', level, n])
  rows.push(['time_to_close', 'closed', report.closed],
    ['time_to_close', 'median_minutes', report.close_median_minutes],
    ['time_to_close', 'average_minutes', report.close_average_minutes],
    ['time_to_close', 'longest_minutes', report.close_longest_minutes],
    ['escalations', 'escalations', report.escalations],
    ['escalations', 'escalated_actions', report.escalated_actions],
    ['charity', 'claimed', report.charity_claimed],
    ['charity', 'redeemed', report.charity_redeemed],
    ['visits', 'visits', report.visits],
    ['visits', 'needing_follow_up', report.visits_follow_up])
  return '\ufeff' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'
}
