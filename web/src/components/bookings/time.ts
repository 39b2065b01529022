/**
 * Days and times of the booking screens in the user's zone (session.timeZone()). The server expands series
 * and answers instants with their offsets; these helpers only show them and turn what was typed (a day and
 * a wall-clock time in the user's zone) into query bounds.
 */
import { currentLocale } from '../../i18n'
import { localDay } from '../../format'
import { timeZone } from '../../session'
import type { components } from '../../api/schema'

export type Space = components['schemas']['Space']
export type Booking = components['schemas']['Booking']
export type Occurrence = components['schemas']['Occurrence']
export type Preview = components['schemas']['BookingPreview']
export type PreviewOccurrence = components['schemas']['PreviewOccurrence']
export type Conflict = components['schemas']['Conflict']
export type WaitlistEntry = components['schemas']['WaitlistEntry']

/** Weekdays as RRULE names, Monday first (the API's weeks start on Monday). */
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export const TAG_COLOURS = { good: '#17692f', waiting: '#8a4b00', bad: '#c8221f', info: '#1456a8', off: '#5c5d60' } as const


/** HH:MM (24 h) of an instant in the user's zone. */
export function hm(iso: string | Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone(), hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(iso))
  return `${parts.find((p) => p.type === 'hour')?.value}:${parts.find((p) => p.type === 'minute')?.value}`
}

function offsetMinutes(at: Date, zone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name)
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0
}

/** The instant of a day and wall-clock time in the user's zone (for query bounds only). */
export function instantOf(day: string, time = '00:00'): Date {
  const [y, mo, d] = day.split('-').map(Number)
  const [h, mi] = time.split(':').map(Number)
  const wall = Date.UTC(y, mo - 1, d, h, mi)
  let guess = wall - offsetMinutes(new Date(wall), timeZone()) * 60_000
  guess = wall - offsetMinutes(new Date(guess), timeZone()) * 60_000
  return new Date(guess)
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

/** 0 = Monday … 6 = Sunday, of a calendar day. */
export function weekdayOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number)
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7
}

/** "周二 12月8日" / "Tue, Dec 8" of a calendar day. */
export function dayLabel(day: string, year = false): string {
  const [y, m, d] = day.split('-').map(Number)
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric', ...(year ? { year: 'numeric' } : {}),
  }).format(new Date(Date.UTC(y, m - 1, d, 12)))
}

/** "周二 12月8日 19:00–21:00" of an occurrence, in the user's zone. */
export function slotLabel(start: string | undefined, end: string | undefined): string {
  if (!start || !end) return ''
  const sameDay = localDay(start) === localDay(end)
  return `${dayLabel(localDay(start))} ${hm(start)}–${sameDay ? '' : dayLabel(localDay(end)) + ' '}${hm(end)}`
}

/** The weekday's name in the user's language (0 = Monday). */
export function weekdayName(index: number, width: 'short' | 'long' = 'short'): string {
  return new Intl.DateTimeFormat(currentLocale(), { timeZone: 'UTC', weekday: width }).format(new Date(Date.UTC(2024, 0, 1 + index, 12)))
}
