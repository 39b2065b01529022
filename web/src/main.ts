import { say } from './notify'
import { createApp, watch } from 'vue'
import 'vant/lib/index.css'
import './styles.css'
import App from './App.vue'
import { onSignedOut } from './api/client'
import { applyLocale, currentLocale, i18n } from './i18n'
import { router } from './router'
import { applyElderly, savedElderly, session } from './session'
import { startUnread, stopUnread } from './unread'

applyLocale(currentLocale())
applyElderly(savedElderly())

onSignedOut(() => {
  say(i18n.global.t('auth.expired'))
  const here = router.currentRoute.value
  if (!here.meta.public) void router.push({ name: 'login', query: { redirect: here.fullPath } })
})

watch(() => Boolean(session.tokens), (signedIn) => (signedIn ? startUnread() : stopUnread()), { immediate: true })

createApp(App).use(i18n).use(router).mount('#app')

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => void navigator.serviceWorker.register('/sw.js', { scope: '/' }))
}
