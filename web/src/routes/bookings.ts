import type { RouteRecordRaw } from 'vue-router'

// The bookings screens.
export const bookingsRoutes: RouteRecordRaw[] = [
  { path: '/bookings', name: 'bookings', component: () => import('../views/BookingsView.vue'), meta: { title: 'pages.bookings', tab: true } },
]
