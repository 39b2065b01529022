import { reactive } from 'vue'
import type { components } from './api/schema'
import { applyLocale, isLocale } from './i18n'

export type Account = components['schemas']['Account']
export type TokenAnswer = components['schemas']['Token']

interface Tokens {
  access: string
  refresh: string
  /** Epoch milliseconds when the access token stops working. */
  expiresAt: number
}

const KEY = 'nuanxin.session'
const ELDERLY_KEY = 'nuanxin.elderly'

function loadTokens(): Tokens | null {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null')
    return saved && typeof saved.refresh === 'string' ? (saved as Tokens) : null
  } catch {
    return null
  }
}

/** Who is signed in on this device: the tokens (kept across reloads) and the account they belong to. */
export const session = reactive<{ tokens: Tokens | null; me: Account | null }>({ tokens: loadTokens(), me: null })

export function setTokens(answer: TokenAnswer): void {
  session.tokens = {
    access: answer.access_token,
    refresh: answer.refresh_token,
    expiresAt: Date.now() + answer.expires_in * 1000,
  }
  localStorage.setItem(KEY, JSON.stringify(session.tokens))
}

export function clearSession(): void {
  session.tokens = null
  session.me = null
  localStorage.removeItem(KEY)
}

/** The account as the API answered it; its language and elderly mode apply to the whole app at once. */
export function setMe(account: Account): void {
  session.me = account
  if (isLocale(account.locale)) applyLocale(account.locale)
  applyElderly(Boolean(account.elderly_mode))
}

export function applyElderly(on: boolean): void {
  document.documentElement.classList.toggle('elderly', on)
  localStorage.setItem(ELDERLY_KEY, on ? '1' : '0')
}

export function savedElderly(): boolean {
  return localStorage.getItem(ELDERLY_KEY) === '1'
}

/** Whether the signed-in account holds any of these roles. */
export function hasRole(...names: string[]): boolean {
  return (session.me?.roles ?? []).some((r) => names.includes(r))
}

/** The zone every date is shown in: the account's, else the device's. */
export function timeZone(): string {
  return session.me?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Shanghai'
}
