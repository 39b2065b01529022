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
