/**
 * What the console knows and keeps fresh: the actions the coordinator may see (their grids' subtrees), the
 * grid tree, the categories, names of people, and the counts of what waits (for the navigation).
 *
 * Polling is cheap: every few seconds only the newest page of actions is asked for (new reports show up
 * there); every minute the server is asked for the live work only (open and waiting to be checked, by
 * state), and an action that has left it is read on its own; the whole list, closed work included, is read
 * again every ten minutes. Nothing is asked while the tab is hidden.
 *
 * Actions carry their people's names (reporter_name, accepted_by_name, assignees); names are looked up one
 * by one only for what the API answers without them (a shop's owner, a wish's owner, a booker, a visitor).
 */
import { computed, reactive, ref } from 'vue'
import { api } from '../../api/client'
import type { components } from '../../api/schema'
import { hasRole, session } from '../../session'

export type Action = components['schemas']['Action']
export type Grid = components['schemas']['Grid']
export type Category = components['schemas']['Category']

export const TABS = ['todo', 'dispatched', 'overdue', 'verify', 'done'] as const
export type Tab = (typeof TABS)[number]

const TODO = new Set(['reported', 'triaged', 'reopened'])
const DISPATCHED = new Set(['dispatched', 'accepted', 'in_progress'])
const OPEN = new Set([...TODO, ...DISPATCHED])
const DONE = new Set(['verified', 'closed', 'duplicate', 'cancelled'])

/** A clock ticking once a second: countdowns and the 超时 tab follow it. */
export const now = ref(Date.now())
let ticking: ReturnType<typeof setInterval> | undefined
export function startClock(): void {
  ticking ??= setInterval(() => (now.value = Date.now()), 1000)
}

export function isOpen(action: Action): boolean {
  return OPEN.has(action.state ?? '')
}

/** Late: open and past its deadline, or moved up a level already because nobody acted in time. */
export function isOverdue(action: Action, at = now.value): boolean {
  if (!isOpen(action)) return false
  if ((action.escalations ?? 0) > 0) return true
  return Boolean(action.deadline_at && Date.parse(action.deadline_at) <= at)
}

export function inTab(action: Action, tab: Tab, at = now.value): boolean {
  const state = action.state ?? ''
  switch (tab) {
    case 'todo':
      return TODO.has(state)
    case 'dispatched':
      return DISPATCHED.has(state)
    case 'overdue':
      return isOverdue(action, at)
    case 'verify':
      return state === 'resolved'
    case 'done':
      return DONE.has(state)
  }
}

export const consoleState = reactive({
  actions: [] as Action[],
  grids: [] as Grid[],
  categories: [] as Category[],
  loaded: false,
  failed: false,
  lastLoad: 0,
  /** Approval queues and visits due (counts for the navigation). */
  waiting: { merchants: 0, wishes: 0, bookings: 0, visits: 0 },
})

/** States in which an action still changes often: open, or resolved and waiting to be checked. */
const LIVE = [...OPEN, 'resolved'] as const

/** Who reported the action, by the name it carries ('' for the system; '#id' if they had no name). */
export function reporterName(action: Action | null | undefined): string {
  return action?.reporter_name || (action?.reporter_id ? `#${action.reporter_id}` : '')
}

/** Who accepted the action, by the name it carries. */
export function acceptedName(action: Action | null | undefined): string {
  if (!action?.accepted_by) return ''
  const assignee = action.assignees?.find((a) => a.user_id === action.accepted_by)
  return action.accepted_by_name || assignee?.display_name || `#${action.accepted_by}`
}

const names = reactive(new Map<number, string>())
const asked = new Set<number>()

/** A person's display name for what the API answers without one (coordinators may read accounts); '#id'
 * until it is known or when refused. */
export function personName(id: number | null | undefined): string {
  if (!id) return ''
  if (!asked.has(id)) {
    asked.add(id)
    void api.GET('/api/v1/accounts/{account_id}', { params: { path: { account_id: id } } })
      .then(({ data }) => data?.display_name && names.set(id, data.display_name))
      .catch(() => undefined)
  }
  return names.get(id) ?? `#${id}`
}

export function gridName(id: number | null | undefined): string {
  return consoleState.grids.find((g) => g.id === id)?.name ?? (id ? `#${id}` : '')
}

/** The grids I coordinate, each with everything below it (what I look after). */
export const myGrids = computed<Grid[]>(() => {
  const me = session.me?.id
  const mine = new Set<number>()
  for (const grid of consoleState.grids) {
    if ((grid.path ?? []).some((id) => consoleState.grids.find((g) => g.id === id)?.coordinator_ids?.includes(me ?? -1))) {
      mine.add(grid.id ?? -1)
    }
  }
  if (!mine.size && hasRole('admin')) return consoleState.grids
  return consoleState.grids.filter((g) => mine.has(g.id ?? -1))
})

export const isCoordinator = computed(() => hasRole('coordinator', 'admin'))
export const isSpaceManager = computed(() => hasRole('space_manager', 'admin'))

/** The actions of the queue: single reports and mass actions (a mass action's checks are followed on it). */
export const queue = computed(() => consoleState.actions.filter((a) => !a.parent_id))

export const counts = computed(() => {
  const at = now.value
  const out: Record<Tab, number> = { todo: 0, dispatched: 0, overdue: 0, verify: 0, done: 0 }
  for (const action of queue.value) for (const tab of TABS) if (inTab(action, tab, at)) out[tab] += 1
  return out
})

function merge(fresh: Action[], whole: boolean): void {
  if (whole) {
    consoleState.actions = fresh
    return
  }
  const byId = new Map(consoleState.actions.map((a) => [a.id, a]))
  for (const action of fresh) byId.set(action.id, action)
  consoleState.actions = [...byId.values()].sort((a, b) => (b.id ?? 0) - (a.id ?? 0))
}

/** Every action matching the query, page by page (pages of 100, at most 10: a desk's working set); null
 * when a page failed; complete says whether the last page was reached. */
async function readActions(filter: Record<string, unknown>): Promise<{ items: Action[]; complete: boolean } | null> {
  const items: Action[] = []
  let cursor: string | null = null
  for (let page = 0; page < 10; page += 1) {
    const query: Record<string, unknown> = { ...filter, limit: 100, ...(cursor ? { cursor } : {}) }
    const { data } = await api.GET('/api/v1/actions', { params: { query: query as never } }).catch(() => ({ data: undefined }))
    if (!data) return null
    items.push(...data.items)
    cursor = data.next_cursor
    if (!cursor) return { items, complete: true }
  }
  return { items, complete: false }
}

/** Every action I may see. */
export async function loadActions(): Promise<void> {
  if (!isCoordinator.value) return
  const all = await readActions({})
  if (!all) {
    consoleState.failed = true
    return
  }
  consoleState.failed = false
  consoleState.loaded = true
  consoleState.lastLoad = Date.now()
  merge(all.items, true)
}

/** The live work only (the server filters by state): what changes between two whole reads. An action I had
 * as live that is not there any more was closed, merged, cancelled or moved out of my grids: read on its own. */
async function refreshLive(): Promise<void> {
  if (!isCoordinator.value) return
  const live = await readActions({ state: LIVE })
  if (!live) {
    consoleState.failed = true
    return
  }
  consoleState.failed = false
  const there = new Set(live.items.map((a) => a.id))
  const left = live.complete
    ? consoleState.actions.filter((a) => LIVE.includes(a.state as never) && !there.has(a.id)).map((a) => a.id ?? 0)
    : []
  merge(live.items, false)
  await Promise.all(left.map(async (id) => {
    const { data, response } = await api.GET('/api/v1/actions/{action_id}', { params: { path: { action_id: id } } })
      .catch(() => ({ data: undefined, response: undefined }))
    if (data) keep(data)
    else if (response?.status === 404 || response?.status === 403) {
      consoleState.actions = consoleState.actions.filter((a) => a.id !== id)
    }
  }))
}

/** The newest page only: new reports and recent changes. */
async function pollActions(): Promise<void> {
  if (!isCoordinator.value) return
  const { data } = await api.GET('/api/v1/actions', { params: { query: { limit: 30 } as never } }).catch(() => ({ data: undefined }))
  if (data) merge(data.items, false)
}

/** One action as it is now (after a verb), kept in the queue too. */
export function keep(action: Action | undefined): void {
  if (action?.id) merge([action], false)
}

export async function loadReference(): Promise<void> {
  const [grids, categories] = await Promise.all([
    api.GET('/api/v1/grids').catch(() => ({ data: undefined })),
    api.GET('/api/v1/action-categories').catch(() => ({ data: undefined })),
  ])
  if (grids.data) consoleState.grids = grids.data.items
  if (categories.data) consoleState.categories = categories.data.items
}

/** Counts of the approval queues and of the visits due (for the navigation). */
export async function loadWaiting(): Promise<void> {
  const jobs: Promise<unknown>[] = []
  if (isCoordinator.value) {
    jobs.push(api.GET('/api/v1/merchants', { params: { query: { status: 'pending', limit: 100 } as never } })
      .then(({ data }) => data && (consoleState.waiting.merchants = pendingMerchants(data.items).length)).catch(() => undefined))
    jobs.push(api.GET('/api/v1/wishes', { params: { query: { state: 'submitted', limit: 100 } as never } })
      .then(({ data }) => data && (consoleState.waiting.wishes = data.items.length)).catch(() => undefined))
    jobs.push(api.GET('/api/v1/visits/overdue', { params: { query: {} as never } })
      .then(({ data }) => data && (consoleState.waiting.visits = data.items.reduce((n, g) => n + (g.merchants?.length ?? 0), 0)))
      .catch(() => undefined))
  }
  if (isSpaceManager.value) {
    jobs.push(api.GET('/api/v1/bookings', { params: { query: { scope: 'managed', status: 'pending', limit: 100 } as never } })
      .then(({ data }) => data && (consoleState.waiting.bookings = data.items.length)).catch(() => undefined))
  }
  await Promise.all(jobs)
}

/** Shops waiting for approval (the API answers those of the grids I look after). */
export function pendingMerchants<T extends { status?: string }>(items: T[]): T[] {
  return items.filter((m) => m.status === 'pending')
}

let polling: ReturnType<typeof setInterval> | undefined
let round = 0

/** Starts the console's clock and polling (once); the first load happens at once. */
export async function startConsole(): Promise<void> {
  startClock()
  if (polling) return
  polling = setInterval(() => {
    if (document.hidden || !session.tokens) return
    round += 1
    if (round % 120 === 0) {
      void loadActions()
      void loadWaiting()
    } else if (round % 12 === 0) {
      void refreshLive()
      void loadWaiting()
    } else {
      void pollActions()
    }
  }, 5000)
  await loadReference()
  await Promise.all([loadActions(), loadWaiting()])
}

export function stopConsole(): void {
  clearInterval(polling)
  polling = undefined
}
