import type { RouteRecordRaw } from 'vue-router'
import { startOutbox } from '../outbox'

// The reports screens.
export const reportsRoutes: RouteRecordRaw[] = [
  { path: '/report', name: 'report', component: () => import('../views/ReportView.vue'), meta: { title: 'pages.report' } },
  { path: '/reports', name: 'reports', component: () => import('../views/ReportsView.vue'), meta: { title: 'reports.mine' } },
  { path: '/reports/:id(\\d+)', name: 'report-detail', component: () => import('../views/ReportDetailView.vue'), meta: { title: 'reports.detailTitle' } },
]

// Reports typed without signal wait on the phone: they go out when the app starts (this file loads with the
// router) and whenever the signal returns.
startOutbox()
