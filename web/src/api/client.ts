/**
 * The typed API client (openapi-fetch over the generated schema.d.ts). Every request carries the access
 * token; a token about to expire is refreshed first, and a 401 refreshes once and repeats the request with
 * its body intact, so nothing typed is lost to an expired token. When the sign-in cannot be renewed the app
 * goes to the sign-in page and comes back to where the user was.
 */
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'
import { i18n } from '../i18n'
import { clearSession, session, setTokens } from '../session'

export type Problem = components['schemas']['Problem']
const TOKEN_PATH = '/api/v1/auth/token'

export const api = createClient<paths>({ baseUrl: '' })

let signedOut: (reason: 'expired') => void = () => {}
/** What to do when the sign-in is gone for good (the router sends the user to sign in, then back). */
export function onSignedOut(handler: (reason: 'expired') => void): void {
  signedOut = handler
}

let refreshing: Promise<boolean> | null = null

/** Rotates the refresh token once, however many requests ask at the same moment. */
export function refreshTokens(): Promise<boolean> {
  const tokens = session.tokens
  if (!tokens) return Promise.resolve(false)
  refreshing ??= (async () => {
    try {
      const answer = await fetch(TOKEN_PATH, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: tokens.refresh }),
      })
      if (answer.ok) {
        setTokens(await answer.json())
        return true
      }
      await answer.body?.cancel().catch(() => undefined)
      if (answer.status === 401) clearSession()
      return false
    } catch {
      return false // offline: keep the tokens and try again later
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

const originals = new Map<string, Request>()

const auth: Middleware = {
  async onRequest({ request, id }) {
    if (new URL(request.url, location.href).pathname === TOKEN_PATH) return request
    if (session.tokens && Date.now() > session.tokens.expiresAt - 30_000) await refreshTokens()
    if (session.tokens) request.headers.set('Authorization', `Bearer ${session.tokens.access}`)
    originals.set(id, request.clone())
    return request
  },
  async onResponse({ response, id }) {
    const original = originals.get(id)
    originals.delete(id)
    if (response.status !== 401 || !original) return response
    if (session.tokens && (await refreshTokens()) && session.tokens) {
      original.headers.set('Authorization', `Bearer ${session.tokens.access}`)
      const again = await fetch(original)
      if (again.status !== 401) {
        await response.body?.cancel().catch(() => undefined) // the refused answer is not read: let it go
        return again
      }
      await again.body?.cancel().catch(() => undefined)
    }
    clearSession()
    signedOut('expired')
    return response
  },
  onError({ id }) {
    originals.delete(id)
  },
}

api.use(auth)

/** Field name → its first message, from a 422 problem (shown beside each field). */
export function fieldErrors(error: unknown): Record<string, string> {
  const errors = (error as Problem | undefined)?.errors as Record<string, unknown> | undefined
  const out: Record<string, string> = {}
  for (const [name, messages] of Object.entries(errors ?? {})) {
    out[name] = Array.isArray(messages) ? String(messages[0]) : typeof messages === 'object' ? JSON.stringify(messages) : String(messages)
  }
  return out
}

/** The problem's own words (its detail), or the title when it has none. */
export function problemText(error: unknown): string {
  const problem = error as Problem | undefined
  return problem?.detail || problem?.title || ''
}

/**
 * What to tell the user when a request failed: for a 5xx (or no answer at all) "try again shortly" — the
 * screen keeps what was typed — else the problem's own words, or `otherwise` when it has none.
 */
export function failureText(status: number, error: unknown, otherwise?: string): string {
  const tryAgain = i18n.global.t('app.tryAgain')
  return status >= 500 ? tryAgain : problemText(error) || otherwise || tryAgain
}
