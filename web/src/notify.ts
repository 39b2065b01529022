/**
 * Short messages ("Saved", "Try again shortly") in a polite live region: read out by screen readers, shown
 * like a toast, gone after a few seconds. (Vant's toast is an unnamed dialog to assistive technology.)
 */
import { reactive } from 'vue'

export const notice = reactive({ text: '', serial: 0 })
let timer: ReturnType<typeof setTimeout> | undefined

export function say(text: string, ms = 2500): void {
  notice.text = text
  notice.serial += 1
  clearTimeout(timer)
  timer = setTimeout(() => (notice.text = ''), ms)
}
