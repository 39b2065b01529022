import { api } from './api/client'
import type { AppLocale } from './i18n'
import { loadMe } from './router'
import { setMe, setTokens, type TokenAnswer } from './session'

/** After a successful sign-in: keep the tokens, load the account, and save a language chosen on the way in. */
export async function signIn(tokens: TokenAnswer, chosen: AppLocale | null): Promise<void> {
  setTokens(tokens)
  await loadMe()
  if (chosen) {
    const { data } = await api.PATCH('/api/v1/me', { body: { locale: chosen } })
    if (data) setMe(data)
  }
}


/** Where to go after signing in: the page that sent the user to sign in (a path of this app), else home. */
export function returnPath(redirect: unknown): string {
  return typeof redirect === 'string' && redirect.startsWith('/') && !redirect.startsWith('//') ? redirect : '/'
}
