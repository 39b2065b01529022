/**
 * The inbox badge: asks /notifications/unread every few seconds with the last ETag, so while nothing
 * changed the answer is an empty 304; pauses while the page is hidden.
 */
import { reactive } from 'vue'
import { api } from './api/client'
import { session } from './session'

export const POLL_MS = 5000
export const unread = reactive({ count: 0 })
let etag = ''
let timer: ReturnType<typeof setInterval> | undefined

export async function checkUnread(): Promise<void> {
  if (!session.tokens || document.hidden) return
  try {
    const { data, response } = await api.GET('/api/v1/notifications/unread', {
      headers: etag ? { 'If-None-Match': etag } : {},
      cache: 'no-store',
    })
    if (response.status === 304 || !data) return
    unread.count = data.unread_count
    etag = response.headers.get('ETag') ?? ''
  } catch {
    // offline: the next tick asks again
  }
}

export function startUnread(): void {
  if (timer !== undefined) return
  void checkUnread()
  timer = setInterval(() => void checkUnread(), POLL_MS)
  document.addEventListener('visibilitychange', () => void checkUnread())
}

export function stopUnread(): void {
  clearInterval(timer)
  timer = undefined
  etag = ''
  unread.count = 0
}

/** After the user read something here: ask at once, whatever the last ETag was. */
export function recheckUnread(): void {
  etag = ''
  void checkUnread()
}
