/**
 * A grid's report (its whole subtree) over days from..to in the reader's zone: GET /reports/grids/{id}, as
 * JSON for the page and as CSV (the API's own rows) for the download.
 */
import { api } from '../../api/client'
import type { components } from '../../api/schema'
import { today } from '../../format'

export type GridReport = components['schemas']['GridReport']

/** The first day of this month (YYYY-MM-DD) in the reader's zone. */
export function monthStart(): string {
  return `${today().slice(0, 8)}01`
}

export const DAY = /^\d{4}-\d{2}-\d{2}$/

export async function loadReport(gridId: number, from: string, to: string):
  Promise<{ report?: GridReport; status: number; error?: unknown }> {
  try {
    const { data, error, response } = await api.GET('/api/v1/reports/grids/{grid_id}', {
      params: { path: { grid_id: gridId }, query: { from, to, format: 'json' } },
    })
    return { report: data as unknown as GridReport | undefined, status: response.status, error }
  } catch (error) {
    return { status: 0, error }
  }
}

/** The same report as the API's CSV (section, key, value), with the file name it suggests. */
export async function loadCsv(gridId: number, from: string, to: string):
  Promise<{ blob?: Blob; name: string; status: number; error?: unknown }> {
  const fallback = `grid-${gridId}-${from}-${to}.csv`
  try {
    const { data, error, response } = await api.GET('/api/v1/reports/grids/{grid_id}', {
      params: { path: { grid_id: gridId }, query: { from, to, format: 'csv' } },
      parseAs: 'blob',
    })
    const named = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') ?? '')?.[1]
    return { blob: data as Blob | undefined, name: named || fallback, status: response.status, error }
  } catch (error) {
    return { name: fallback, status: 0, error }
  }
}
