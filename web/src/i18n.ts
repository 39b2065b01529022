import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import zh from './locales/zh-CN'
import en from './locales/en'
import * as bookings from './locales/bookings'
import * as wishes from './locales/wishes'
import * as activities from './locales/activities'
import * as reports from './locales/reports'
import * as tasks from './locales/tasks'
import * as consoleStrings from './locales/console'
import * as consoleBroadcasts from './locales/consoleBroadcasts'
import * as consoleMap from './locales/consoleMap'
import * as consoleReports from './locales/consoleReports'

const features = [bookings, wishes, activities, reports, tasks, consoleStrings, consoleBroadcasts, consoleMap, consoleReports]

/** The core strings with each feature's own (features/… keep to their own top-level key). */
function withFeatures(core: typeof zh, part: 'zh' | 'en'): typeof zh {
  return Object.assign({}, core, ...features.map((f) => f[part]))
}

export const LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof LOCALES)[number]
const KEY = 'nuanxin.locale'

export function isLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}

function initial(): AppLocale {
  const saved = localStorage.getItem(KEY)
  return isLocale(saved) ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: {
    'zh-CN': withFeatures(zh, 'zh'),
    en: withFeatures(en, 'en'),
  },
})

/** Switches the app's strings, Vant's own strings and the page's language together. */
export function applyLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  Locale.use(locale === 'en' ? 'en-US' : 'zh-CN', locale === 'en' ? vantEn : vantZh)
  document.documentElement.lang = locale
  localStorage.setItem(KEY, locale)
}

export function currentLocale(): AppLocale {
  return i18n.global.locale.value as AppLocale
}
