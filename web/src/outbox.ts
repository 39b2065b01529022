/**
 * Reports kept on the phone until they are sent. Every report is saved here first (localStorage, so it
 * survives a reload and a closed browser) with an Idempotency-Key made at that moment, then sent: at once when
 * there is signal, else when the signal returns (the `online` event), when the app starts and every little
 * while as long as something waits. A retry after a lost answer carries the same key, so the gateway answers
 * with the report it already made and never makes a second one.
 */
import { reactive, watch } from 'vue'
import type { components } from './api/schema'
import { api, fieldErrors, problemText } from './api/client'
import { session, setMe } from './session'

export type ReportBody = components['schemas']['ActionReport']

export interface Pending {
  /** The Idempotency-Key, made when the report was saved. */
  key: string
  body: ReportBody
  /** Epoch milliseconds when it was typed. */
  savedAt: number
  /** The account that typed it (null when it was typed before the account was known, e.g. offline at start). */
  owner: number | null
  /** Refused by the API (422 and the like): it waits for the user to fix or discard it. */
  refused?: boolean
  /** The API's field messages and its own words when it refused. */
  errors?: Record<string, string>
  message?: string
}

const KEY = 'nuanxin.outbox'
const RETRY_MS = 15_000

function load(): Pending[] {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '[]')
    return Array.isArray(saved) ? saved.filter((p) => p && typeof p.key === 'string' && p.body) : []
  } catch {
    return []
  }
}

/** What waits on this phone, and what was sent since the app started (key → the action's id). */
export const outbox = reactive<{ items: Pending[]; sent: Record<string, number>; sending: boolean }>({
  items: load(),
  sent: {},
  sending: false,
})

function persist(): void {
  localStorage.setItem(KEY, JSON.stringify(outbox.items))
}

/** A key no other report will have (crypto.randomUUID needs a secure context; the fallback does not). */
function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return `report-${crypto.randomUUID()}`
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return `report-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The signed-in account's reports waiting here. */
export function mine(): Pending[] {
  const me = session.me?.id ?? null
  return outbox.items.filter((p) => p.owner === null || me === null || p.owner === me)
}

/** Keeps a report on the phone (before anything is sent) and answers its key. */
export function keep(body: ReportBody): string {
  const key = newKey()
  outbox.items.push({ key, body, savedAt: Date.now(), owner: session.me?.id ?? null })
  persist()
  return key
}

export function discard(key: string): void {
  outbox.items = outbox.items.filter((p) => p.key !== key)
  persist()
}

export type SendResult =
  | { kind: 'sent'; id: number }
  | { kind: 'refused'; errors: Record<string, string>; message: string }
  | { kind: 'waiting' }

async function sendOne(item: Pending): Promise<SendResult> {
  const { data, error, response } = await api
    .POST('/api/v1/actions', { body: item.body, headers: { 'Idempotency-Key': item.key } })
    .catch(() => ({ data: undefined, error: undefined, response: undefined }))
  if (data?.id !== undefined) return { kind: 'sent', id: data.id }
  // No answer, the server busy (5xx), a retry of the same key still in flight (409) or signed out (401):
  // it stays and goes again later.
  if (!response || response.status >= 500 || response.status === 409 || response.status === 401) return { kind: 'waiting' }
  return { kind: 'refused', errors: fieldErrors(error), message: problemText(error) }
}

let running: Promise<void> | null = null

/** Sends every report of the signed-in account that waits, oldest first, each once (one run at a time). */
export function flush(): Promise<void> {
  // Cleared in .finally, which runs after the assignment even when the run ends without waiting.
  running ??= send().finally(() => (running = null))
  return running
}

async function send(): Promise<void> {
  outbox.sending = true
  try {
    if (!session.tokens || !navigator.onLine) return
    if (!session.me) {
      const { data } = await api.GET('/api/v1/me').catch(() => ({ data: undefined }))
      if (data) setMe(data)
      else return
    }
    const tried = new Set<string>()
    // One at a time, oldest first; a report kept while this runs is picked up too.
    for (;;) {
      const item = outbox.items.find((p) => !p.refused && !tried.has(p.key)
        && (p.owner === null || p.owner === session.me?.id)) // not another account's, on a shared phone
      if (!item) break
      tried.add(item.key)
      const result = await sendOne(item)
      if (result.kind === 'waiting') break
      const current = outbox.items.find((p) => p.key === item.key)
      if (result.kind === 'sent') {
        outbox.sent[item.key] = result.id
        outbox.items = outbox.items.filter((p) => p.key !== item.key)
      } else if (current) {
        current.refused = true
        current.errors = result.errors
        current.message = result.message
      }
      persist()
    }
  } finally {
    outbox.sending = false
  }
}

let started = false

/** Sends what waits when the app starts, when the signal returns, when someone signs in, and every 15 s. */
export function startOutbox(): void {
  if (started || typeof window === 'undefined') return
  started = true
  window.addEventListener('online', () => void flush())
  // Another tab sent or kept something: read it again.
  window.addEventListener('storage', (event) => {
    if (event.key === KEY) outbox.items = load()
  })
  watch(() => session.me?.id, (id) => id !== undefined && void flush())
  setInterval(() => {
    if (outbox.items.some((p) => !p.refused)) void flush()
  }, RETRY_MS)
  void flush()
}
