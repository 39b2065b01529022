import { ref, type Ref } from 'vue'

/** One page of a list as the API answers it. */
export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

/**
 * A list read page by page (`{items, next_cursor}`), for Vant's List and PullRefresh. `read(cursor)` asks for
 * one page (no cursor: the first) and answers undefined when the request failed; `load()` appends the next
 * page, `load(true)` and `refresh()` start again from the first. When a newer read starts before an older one
 * answers (a tab or a filter changed), the older answer is dropped.
 */
export function usePaged<T>(read: (cursor: string | undefined) => Promise<Page<T> | undefined>) {
  const items = ref([]) as Ref<T[]>
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  const finished = ref(false)
  const refreshing = ref(false)
  const failed = ref(false)
  let serial = 0

  async function load(reset = false): Promise<void> {
    const asked = ++serial
    loading.value = true
    failed.value = false
    const page = await read(reset || !cursor.value ? undefined : cursor.value).catch(() => undefined)
    if (asked !== serial) return
    loading.value = false
    refreshing.value = false
    if (!page) {
      failed.value = true
      return
    }
    items.value = reset ? page.items : [...items.value, ...page.items]
    cursor.value = page.next_cursor ?? null
    finished.value = !page.next_cursor
  }

  /** From the first page again (pull to refresh, a new filter). */
  function refresh(): void {
    finished.value = false
    void load(true)
  }

  return { items, loading, finished, refreshing, failed, load, refresh }
}
