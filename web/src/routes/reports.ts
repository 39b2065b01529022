import type { RouteRecordRaw } from 'vue-router'

// The reports screens.
export const reportsRoutes: RouteRecordRaw[] = [
  { path: '/report', name: 'report', component: () => import('../views/ReportView.vue'), meta: { title: 'pages.report' } },
]
