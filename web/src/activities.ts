/**
 * What the activities screens share: an activity's texts in the reader's language, the kinds and states with
 * their colours, the session code's QR payload (a link that opens the check-in page with the code in it),
 * and the few requests every screen makes the same way.
 */
import { reactive } from 'vue'
import { api } from './api/client'
import type { components } from './api/schema'
import { currentLocale } from './i18n'
import { hasRole, timeZone } from './session'
import { TAG_COLOURS, WEEKDAYS, weekdayOf } from './components/bookings/time'

type S = components['schemas']
/** T with the members K always there (every answer of the API has them). */
type Sure<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> }

// What the screens read of the API's answers, typed from the generated schema, with the members every answer
// has made required: an activity as its page has it (sessions, my sign-up…) or as a list's card (when).
export type ActivitySession = Sure<S['Session'], 'id' | 'starts_at' | 'ends_at'> & { space_name?: string | null } // a room's name, if ever sent
export type RouteStop = S['RouteStop']
export type SignUp = Sure<S['SignUp'], 'id' | 'activity_id' | 'places' | 'state'>
export type Activity = Sure<Omit<S['ActivityDetail'], 'sessions' | 'my_signup' | 'places_left'>, 'id' | 'title_zh' | 'kind' | 'capacity'> & {
  places_left?: number; sessions?: ActivitySession[]; my_signup?: SignUp | null; my_signup_state?: string | null
} & Pick<S['ActivityCard'], 'first_starts_at' | 'last_ends_at' | 'session_count'>
export type AttendanceRecord = Sure<S['AttendanceItem'], 'user_id'>
export type AttendanceList = Omit<S['AttendanceList'], 'items'> & { items: AttendanceRecord[] }
export type SessionCode = Sure<S['SessionCode'], 'code' | 'expires_at' | 'period_seconds'>
export type ActivityReport = S['ActivityReport']
export type ReportFigures = S['ReportFigures'] & { site_id?: number | null; site_name?: string }

export const KINDS = ['class', 'walk', 'contest', 'party', 'film', 'workshop', 'fitness', 'other'] as const
export type Kind = (typeof KINDS)[number]

/** Who may create an activity (a team lead may too: the server decides for the team it names). */
export const ORGANISER_ROLES = ['coordinator', 'admin', 'space_manager'] as const
/** Who may read the activities reports. */
export const REPORT_ROLES = ['coordinator', 'admin', 'space_manager'] as const

export function activityTitle(a: { title_zh?: string; title_en?: string | null } | null | undefined): string {
  if (!a) return ''
  return (currentLocale() === 'en' && a.title_en) || a.title_zh || a.title_en || ''
}

export function activityDescription(a: { description_zh?: string | null; description_en?: string | null } | null | undefined): string {
  if (!a) return ''
  return (currentLocale() === 'en' && a.description_en) || a.description_zh || a.description_en || ''
}

/** A sign-up's state as a tag colour (never colour alone: the tag carries the state's name). */
export function signupColour(state: string | undefined): string {
  if (state === 'confirmed') return TAG_COLOURS.good
  if (state === 'offered') return TAG_COLOURS.info
  if (state === 'waitlisted') return TAG_COLOURS.waiting
  return TAG_COLOURS.off
}

export function sessionColour(state: string | undefined): string {
  if (state === 'scheduled') return TAG_COLOURS.info
  if (state === 'done') return TAG_COLOURS.good
  return TAG_COLOURS.off
}

/** A sign-up that still holds (or waits for) a place. */
export const LIVE_SIGNUP = ['confirmed', 'waitlisted', 'offered']

/**
 * The rotating code as a QR payload: a link to the session's check-in page carrying the code, so a phone's own
 * camera opens the app there; the app's scanner reads the same link.
 */
export function sessionCodePayload(activityId: number, sessionId: number, code: string): string {
  return `${location.origin}/activities/${activityId}/sessions/${sessionId}/check-in?code=${encodeURIComponent(code)}`
}

/** The session and code inside a scanned payload, or the text as typed (spaces dropped). */
export function codeFromPayload(text: string): { activityId?: number; sessionId?: number; code: string } {
  const match = /\/activities\/(\d+)\/sessions\/(\d+)\/check-in\?code=([^&#\s]+)/.exec(text.trim())
  if (match) return { activityId: Number(match[1]), sessionId: Number(match[2]), code: decodeURIComponent(match[3]) }
  return { code: text.replace(/\s+/g, '') }
}

/** The code read out in groups of three ("482 913"). */
export function spacedCode(code: string | undefined): string {
  return (code ?? '').replace(/(.{3})(?=.)/g, '$1 ')
}

/** A request's outcome without throwing: no answer at all reads as 503 (the screen keeps what was typed). */
export async function outcome<D, E>(request: Promise<{ data?: D; error?: E; response: Response }>):
  Promise<{ data?: D; error?: E; status: number; response?: Response }> {
  try {
    const { data, error, response } = await request
    return { data, error, status: response.status, response }
  } catch {
    return { status: 503 }
  }
}

/** The spaces a session can be held in (of one site, or all), for the organiser's venue picker. */
export async function loadSpaces(siteId?: number) {
  const { data } = await outcome(api.GET('/api/v1/spaces', { params: { query: { limit: 100, kind: 'room', ...(siteId ? { site_id: siteId } : {}) } as never } }))
  return data?.items ?? []
}

/** Saves a blob the API answered (a CSV) under the name it suggests. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * People's names on the organisers' lists (sign-ups, attendance): the answer's display_name (the name they
 * signed up with); for a row without one, the organising team's members, else the account itself for
 * coordinators and admins (who may read accounts); "账号 12" when none of these knows.
 */
export function usePeopleNames() {
  const names = reactive<Record<number, string>>({})
  async function learn(ids: number[], teamMembers: { user_id?: number; display_name?: string }[] = []) {
    for (const m of teamMembers) if (m.user_id && m.display_name && !names[m.user_id]) names[m.user_id] = m.display_name
    if (!hasRole('coordinator', 'admin')) return
    for (const id of new Set(ids)) {
      if (names[id] !== undefined) continue
      names[id] = ''
      const { data } = await outcome(api.GET('/api/v1/accounts/{account_id}', { params: { path: { account_id: id } } }))
      names[id] = data?.display_name || data?.username || ''
    }
  }
  return { names, learn }
}

/** When and where sessions are to be held, as typed (components/activities/SessionFields.vue). */
export interface Schedule {
  date: string; start: string; end: string; repeat: 'once' | 'weekly'; days: string[]; count: string
  where: 'space' | 'place'; site: string; space: string; place: string
}

export function newSchedule(day: string, start = '19:00', end = '21:00'): Schedule {
  return { date: day, start, end, repeat: 'once', days: [WEEKDAYS[weekdayOf(day)]], count: '8', where: 'space', site: '', space: '', place: '' }
}

/** The API's session request for a schedule: local wall-clock times in the user's zone, a weekly rule. */
export function sessionRequest(s: Schedule): S['SessionRequest'] {
  return {
    starts_at: `${s.date}T${s.start}:00`, ends_at: `${s.date}T${s.end}:00`, timezone: timeZone(),
    ...(s.where === 'space' ? { space_id: s.space ? Number(s.space) : null } : { place: s.place.trim() }),
    ...(s.repeat === 'weekly'
      ? { rrule: `FREQ=WEEKLY;BYDAY=${WEEKDAYS.filter((d) => s.days.includes(d)).join(',')};COUNT=${s.count.trim()}` } : {}),
  }
}

/** A 422's messages by field path ("sessions.0.ends_at"), nested lists and objects flattened. */
export function flatErrors(value: unknown, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[path] = String(value[0])
  else if (typeof value === 'string') out[path] = value
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) flatErrors(inner, path ? `${path}.${key}` : key, out)
  }
  return out
}

/** Where a session field's message shows in SessionFields (by its path's last part, under `sessions.N.` or not). */
export const SESSION_PLACES: Record<string, (path: string) => boolean> = {
  start: (p) => /(^|\.)(starts_at|timezone)$/.test(p), end: (p) => /(^|\.)ends_at$/.test(p),
  repeat: (p) => /(^|\.)(rrule|exdates)(\.|$)/.test(p) || p === 'sessions', space: (p) => /(^|\.)space_id$/.test(p) || p === 'site_id',
  place: (p) => /(^|\.)place$/.test(p),
}
