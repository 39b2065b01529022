import { currentLocale } from './i18n'
import { timeZone } from './session'

/** A moment from the API (ISO 8601 with its offset) as the user reads it: their language, their zone. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return ''
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: timeZone(),
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso))
}

export function date(iso: string | null | undefined): string {
  if (!iso) return ''
  return new Intl.DateTimeFormat(currentLocale(), { timeZone: timeZone(), dateStyle: 'medium' }).format(new Date(iso))
}

/** The calendar day (YYYY-MM-DD) of a moment in the user's zone; '' when there is none. */
export function localDay(moment: string | Date | null | undefined): string {
  return moment ? new Intl.DateTimeFormat('en-CA', { timeZone: timeZone() }).format(new Date(moment)) : ''
}

/** Today (YYYY-MM-DD) in the user's zone. */
export function today(): string {
  return localDay(new Date())
}
