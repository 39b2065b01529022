/**
 * What the activities screens share: an activity's texts in the reader's language, the kinds and states with
 * their colours, the session code's QR payload (a link that opens the check-in page with the code in it),
 * and the few requests every screen makes the same way.
 */
import { api } from './api/client'
import { currentLocale } from './i18n'
import { TAG_COLOURS } from './components/bookings/time'

// The shapes of services/activities/contracts.py, until the generated types carry them.
export interface ActivitySession {
  id: number; activity_id?: number; starts_at: string; ends_at: string; space_id?: number | null; space_name?: string | null
  place?: string | null; state?: string; walk_ins?: number; booking_id?: number | null; cancel_reason?: string
}
export interface RouteStop { position?: number; name: string; note?: string | null }
export interface SignUp {
  id: number; activity_id: number; user_id?: number; display_name?: string | null; places: number; household?: string | null
  state: string; hold_until?: string | null; position?: number | null; created_at?: string; decided_at?: string | null
  title_zh?: string; title_en?: string | null; first_starts_at?: string | null; cancel_until?: string | null
}
export interface Activity {
  id: number; title_zh: string; title_en?: string | null; description_zh?: string | null; description_en?: string | null
  kind: string; organiser_team_id?: number | null; site_id?: number | null; site_name?: string | null
  groups?: string[]; roles?: string[]; organiser_ids?: number[]; capacity: number; taken?: number; places_left?: number
  signup_opens_at?: string | null; signup_closes_at?: string | null; cancel_before_minutes?: number
  max_places_per_person?: number; one_per_household?: boolean; hold_minutes?: number; state?: string; timezone?: string
  cancel_reason?: string; version?: number; route?: RouteStop[]
  // the list's extras, when the API gives them
  first_starts_at?: string | null; session_count?: number; my_signup_state?: string | null
  // the detail's
  sessions?: ActivitySession[]; my_signup?: SignUp | null; waitlist_length?: number; eligible?: boolean
  signup_window?: string; organiser?: boolean
}
export interface AttendanceRecord {
  user_id: number; display_name?: string | null; role?: string; signup_id?: number | null; places?: number | null
  checked_in_at?: string | null; checked_out_at?: string | null; method?: string | null; standing?: string
  minutes_credited?: number | null
}
export interface AttendanceList {
  items: AttendanceRecord[]; ended?: boolean
  summary?: { participants?: number; participants_in?: number; no_shows?: number; helpers?: number; walk_ins?: number; visits?: number }
}
type Init = {
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown> }
  body?: unknown; headers?: Record<string, string>; parseAs?: 'json' | 'blob' | 'text'
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Promise<{ data?: any; error?: unknown; response: Response }>
/** The activities endpoints through the same client (its sign-in and refresh), typed by the screens. */
export const activitiesApi = api as unknown as {
  GET(path: string, init?: Init): Answer; POST(path: string, init?: Init): Answer
  PATCH(path: string, init?: Init): Answer; DELETE(path: string, init?: Init): Answer
}

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
