import type { RouteRecordRaw } from 'vue-router'

// The bookings screens: my bookings and waitlist offers (the tab), finding a space, its week of free times,
// booking once or weekly with a preview of every time, and one booking with its times.
export const bookingsRoutes: RouteRecordRaw[] = [
  { path: '/bookings', name: 'bookings', component: () => import('../views/BookingsView.vue'), meta: { title: 'pages.bookings', tab: true } },
  { path: '/bookings/spaces', name: 'spaces', component: () => import('../views/SpacesView.vue'), meta: { title: 'bookings.spaces.title' } },
  { path: '/bookings/spaces/:id', name: 'space', component: () => import('../views/SpaceView.vue'), meta: { title: 'bookings.spaces.open' } },
  { path: '/bookings/spaces/:id/book', name: 'book', component: () => import('../views/BookingFormView.vue'), meta: { title: 'bookings.form.title' } },
  { path: '/bookings/:id(\\d+)', name: 'booking', component: () => import('../views/BookingView.vue'), meta: { title: 'bookings.detail.title' } },
]
