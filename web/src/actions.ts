/** What the report and task screens share: an action's step on the 上报 → 派单 → 处置 → 核查 → 办结 line,
 * category names in the reader's language, and the categories and grids kept for use without signal. */
import type { components } from './api/schema'
import { api } from './api/client'
import { currentLocale } from './i18n'

export type Action = components['schemas']['Action']
export type TimelineEntry = components['schemas']['TimelineEntry']
export type Category = components['schemas']['Category']
export type Grid = components['schemas']['Grid']

/** The five steps a resident follows, in order. */
export const STEPS = ['report', 'dispatch', 'work', 'check', 'close'] as const
export type Step = (typeof STEPS)[number]

/** The step an action in `state` has reached (its index in STEPS). */
export function stepOf(state: string | undefined): number {
  switch (state) {
    case 'dispatched':
    case 'accepted':
      return 1
    case 'in_progress':
      return 2
    case 'resolved':
      return 3
    case 'verified':
    case 'closed':
      return 4
    default:
      return 0 // reported, triaged, reopened (back to the coordinator), duplicate, cancelled
  }
}

/** The timeline verbs that mark reaching each step (the newest one counts: a reopened action goes round again). */
const STEP_VERBS: Record<Step, string[]> = {
  report: ['report'],
  dispatch: ['dispatch'],
  work: ['start'],
  check: ['resolve'],
  close: ['close'],
}

/** When each step was reached, from the timeline ('' for a step not reached yet). */
export function stepTimes(entries: TimelineEntry[], reached: number): Record<Step, string> {
  const out = {} as Record<Step, string>
  STEPS.forEach((step, index) => {
    const hits = entries.filter((e) => STEP_VERBS[step].includes(e.verb ?? ''))
    out[step] = index <= reached ? hits[hits.length - 1]?.at ?? '' : ''
  })
  return out
}

/** Category names the app knows in English; any other category shows the label it was created with. */
const CATEGORY_EN: Record<string, string> = {
  shop_sign: 'Loose shop sign',
  shared_bikes: 'Shared bikes blocking a door',
  elderly_check: 'Visit to an older person living alone',
  noise: 'Noise dispute',
  storefront_check: 'Storefront check (typhoon)',
  other: 'Other',
}

export function categoryName(category: Pick<Category, 'name' | 'label'> | undefined, name?: string): string {
  const key = category?.name ?? name ?? ''
  if (currentLocale() === 'en' && CATEGORY_EN[key]) return CATEGORY_EN[key]
  return category?.label || key
}

const LISTS_KEY = 'nuanxin.report.lists'

interface Lists {
  categories: Category[]
  grids: Grid[]
}

function savedLists(): Lists {
  try {
    const saved = JSON.parse(localStorage.getItem(LISTS_KEY) ?? 'null')
    if (saved && Array.isArray(saved.categories) && Array.isArray(saved.grids)) return saved as Lists
  } catch {
    // a damaged copy is simply fetched again
  }
  return { categories: [], grids: [] }
}

/** The categories and grids to report in: fresh from the API, or the copy kept from last time when offline. */
export async function reportLists(): Promise<Lists & { fresh: boolean }> {
  const [categories, grids] = await Promise.all([
    api.GET('/api/v1/action-categories').catch(() => ({ data: undefined })),
    api.GET('/api/v1/grids').catch(() => ({ data: undefined })),
  ])
  if (categories.data && grids.data) {
    const lists = { categories: categories.data.items, grids: grids.data.items }
    try {
      localStorage.setItem(LISTS_KEY, JSON.stringify(lists))
    } catch {
      // storage full: the lists still work for now
    }
    return { ...lists, fresh: true }
  }
  return { ...savedLists(), fresh: false }
}

/** The categories from the API (the kept copy without signal). */
export async function loadCategories(): Promise<Category[]> {
  const { data } = await api.GET('/api/v1/action-categories').catch(() => ({ data: undefined }))
  return data?.items ?? savedLists().categories
}
