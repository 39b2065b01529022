import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import zh from './locales/zh-CN'
import en from './locales/en'

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
  messages: { 'zh-CN': zh, en },
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
