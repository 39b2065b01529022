/** What the charity screens share: an item's name in the reader's language, its stock line, claim codes. */
import type { components } from './api/schema'
import { api } from './api/client'
import { currentLocale } from './i18n'
import { localDay, today } from './format'

export type Pledge = components['schemas']['Pledge']
export type Claim = components['schemas']['Claim']
export type Merchant = components['schemas']['Merchant']
export type Wish = components['schemas']['Wish']

export const GROUPS = ['rider', 'courier', 'sanitation', 'elderly', 'outdoor'] as const
export const PERIODS = ['day', 'week', 'total'] as const

type Translate = (key: string, values?: Record<string, unknown>) => string

export function itemTitle(item: { title?: string; title_en?: string }): string {
  return (currentLocale() === 'en' && item.title_en) || item.title || ''
}

export function itemDescription(item: { description?: string; description_en?: string }): string {
  return (currentLocale() === 'en' && item.description_en) || item.description || ''
}

/** "今日剩余 7/10" */
export function stockLine(t: Translate, item: Pledge): string {
  const key = item.stock_period === 'week' ? 'remainingWeek' : item.stock_period === 'total' ? 'remainingTotal' : 'remainingDay'
  return t(`charity.${key}`, { left: item.remaining ?? item.stock, stock: item.stock })
}

/** A claim code in two groups of four, as it is read out at the counter. */
export function spacedCode(code: string | undefined): string {
  return (code ?? '').replace(/(.{4})(?=.)/g, '$1 ')
}

/** The code inside a scanned QR payload ("nuanxin:claim:K7QX3M9P"), or the text as typed. */
export function codeFromPayload(text: string): string {
  const match = /^nuanxin:claim:(.+)$/.exec(text.trim())
  return (match ? match[1] : text).trim()
}

/** Tag colours dark enough for white text (4.5:1 and more); Vant's own green and orange are not. */
export const TAG_COLOURS = { good: '#17692f', waiting: '#8a4b00', bad: '#c8221f', info: '#1456a8' } as const

/** Today's claims (in the user's zone) on the items of my shops, newest first; undefined when the API is busy. */
export async function todaysClaims(items: Pledge[]): Promise<Claim[] | undefined> {
  const day = today()
  try {
    const lists = await Promise.all(items.map((p) =>
      api.GET('/api/v1/pledges/{pledge_id}/claims', { params: { path: { pledge_id: p.id! }, query: { limit: 100 } } })))
    if (lists.some((l) => !l.data)) return undefined
    return lists.flatMap((l) => l.data?.items ?? []).filter((c) => localDay(c.claimed_at) === day)
      .sort((a, b) => (b.claimed_at ?? '').localeCompare(a.claimed_at ?? ''))
  } catch {
    return undefined
  }
}

// ------------------------------------------------------------------------------------------ micro-wishes

/** A wish's way from posting to receipt: the verbs of its timeline, in order. */
export const WISH_STAGES = ['submit', 'publish', 'adopt', 'deliver', 'fulfil'] as const
/** States after which nothing more happens to a wish. */
export const WISH_ENDS = ['fulfilled', 'rejected', 'withdrawn'] as const

export function wishTagColour(state: string | undefined): string {
  if (state === 'fulfilled' || state === 'delivered' || state === 'adopted') return TAG_COLOURS.good
  if (state === 'submitted' || state === 'draft') return TAG_COLOURS.waiting
  if (state === 'rejected' || state === 'withdrawn') return TAG_COLOURS.bad
  return TAG_COLOURS.info
}
