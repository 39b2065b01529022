import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { api } from './api/client'
import { session, setMe } from './session'
import { i18n } from './i18n'
import HomeView from './views/HomeView.vue'
import { bookingsRoutes } from './routes/bookings'
import { wishesRoutes } from './routes/wishes'
import { activitiesRoutes } from './routes/activities'
import { reportsRoutes } from './routes/reports'
import { tasksRoutes } from './routes/tasks'
import { consoleRoutes } from './routes/console'

declare module 'vue-router' {
  interface RouteMeta {
    /** The i18n key of the page's title. */
    title: string
    /** Open without signing in. */
    public?: boolean
    /** Shows the bottom tab bar. */
    tab?: boolean
  }
}

const Placeholder = () => import('./views/PlaceholderView.vue')

// Each feature's screens are listed in routes/<feature>.ts; unknown paths render PlaceholderView.
const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: HomeView, meta: { title: 'home.title', tab: true } },
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { title: 'auth.signInTitle', public: true } },
  { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { title: 'auth.registerTitle', public: true } },
  { path: '/inbox', name: 'inbox', component: () => import('./views/InboxView.vue'), meta: { title: 'inbox.title', tab: true } },
  { path: '/me', name: 'me', component: () => import('./views/MeView.vue'), meta: { title: 'me.title', tab: true } },
  { path: '/me/notifications', name: 'notification-settings', component: () => import('./views/NotificationSettingsView.vue'), meta: { title: 'settings.title' } },
  { path: '/charity', name: 'charity', component: () => import('./views/CharityView.vue'), meta: { title: 'pages.charity', tab: true } },
  { path: '/claims', name: 'claims', component: () => import('./views/ClaimsView.vue'), meta: { title: 'claims.title' } },
  { path: '/claims/:id', name: 'claim', component: () => import('./views/ClaimView.vue'), meta: { title: 'claims.codeTitle' } },
  ...bookingsRoutes,
  ...wishesRoutes,
  ...activitiesRoutes,
  ...reportsRoutes,
  ...tasksRoutes,
  ...consoleRoutes,
  { path: '/merchant', name: 'merchant', component: () => import('./views/MerchantView.vue'), meta: { title: 'pages.merchant' } },
  { path: '/merchant/pledges/new', name: 'merchant-pledge', component: () => import('./views/MerchantPledgeView.vue'), meta: { title: 'merchant.formTitle' } },
  { path: '/merchant/redeem', name: 'merchant-redeem', component: () => import('./views/MerchantRedeemView.vue'), meta: { title: 'merchant.redeemTitle' } },
  { path: '/:rest(.*)*', name: 'not-found', component: Placeholder, meta: { title: 'pages.notFound', public: true } },
]

export const router = createRouter({ history: createWebHistory(), routes })

/** Loads the signed-in account (its language, zone and elderly mode apply at once). */
export async function loadMe(): Promise<boolean> {
  const { data } = await api.GET('/api/v1/me')
  if (data) setMe(data)
  return Boolean(data)
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.tokens) return { name: 'login', query: { redirect: to.fullPath } }
  if (!session.me) await loadMe().catch(() => false)
  if (!session.tokens) return { name: 'login', query: { redirect: to.fullPath } }
  return true
})

router.afterEach((to) => {
  document.title = `${i18n.global.t(to.meta.title)} · ${i18n.global.t('app.name')}`
})
