import type { RouteRecordRaw } from 'vue-router'

// The coordinators' console (a desk, 1280 px and wider; it also works narrow, for grid workers on the street):
// its own layout with a navigation that counts what waits, around its screens.
export const consoleRoutes: RouteRecordRaw[] = [
  {
    path: '/console',
    component: () => import('../views/ConsoleLayout.vue'),
    meta: { title: 'console.title' },
    children: [
      { path: '', name: 'console', component: () => import('../views/ConsoleView.vue'), meta: { title: 'console.queue.title' } },
      { path: 'actions/:id(\\d+)', name: 'console-action', component: () => import('../views/ConsoleActionView.vue'), meta: { title: 'console.action.title' } },
      { path: 'approvals', name: 'console-approvals', component: () => import('../views/ConsoleApprovalsView.vue'), meta: { title: 'console.approvals.title' } },
      { path: 'visits', name: 'console-visits', component: () => import('../views/ConsoleVisitsView.vue'), meta: { title: 'console.visits.title' } },
      { path: 'broadcasts', name: 'console-broadcasts', component: () => import('../views/ConsoleBroadcastsView.vue'), meta: { title: 'consoleBroadcasts.title' } },
      { path: 'map', name: 'console-map', component: () => import('../views/ConsoleMapView.vue'), meta: { title: 'consoleMap.title' } },
      { path: 'reports', name: 'console-reports', component: () => import('../views/ConsoleReportsView.vue'), meta: { title: 'consoleReports.title' } },
    ],
  },
]
