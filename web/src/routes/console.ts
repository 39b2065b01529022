import type { RouteRecordRaw } from 'vue-router'

// The coordinators' console (a desk, 1280 px and wider): its own layout around its screens.
export const consoleRoutes: RouteRecordRaw[] = [
  { path: '/console', name: 'console', component: () => import('../views/ConsoleView.vue'), meta: { title: 'console.title' } },
]
