import type { RouteRecordRaw } from 'vue-router'

// The activities screens: the list (by kind), one activity with its sessions, route and my sign-up, my sign-ups
// with their tickets, checking in at a session by its code; for organisers creating an activity, a session's
// check-in desk (the rotating code, attendance, helpers, walk-ins), and the reports.
export const activitiesRoutes: RouteRecordRaw[] = [
  { path: '/activities', name: 'activities', component: () => import('../views/ActivitiesView.vue'), meta: { title: 'activities.title' } },
  { path: '/activities/mine', name: 'activity-signups', component: () => import('../views/ActivitySignupsView.vue'), meta: { title: 'activities.mine' } },
  { path: '/activities/new', name: 'activity-new', component: () => import('../views/ActivityFormView.vue'), meta: { title: 'activities.form.title' } },
  { path: '/activities/reports', name: 'activity-reports', component: () => import('../views/ActivityReportsView.vue'), meta: { title: 'activities.reports.title' } },
  { path: '/activities/:id(\\d+)', name: 'activity', component: () => import('../views/ActivityView.vue'), meta: { title: 'activities.detail.title' } },
  { path: '/activities/signups/:id(\\d+)/ticket', name: 'activity-ticket', component: () => import('../views/ActivityTicketView.vue'), meta: { title: 'activities.ticket.title' } },
  { path: '/activities/:id(\\d+)/edit', name: 'activity-edit', component: () => import('../views/ActivityEditView.vue'), meta: { title: 'activities.edit.title' } },
  { path: '/activities/:id(\\d+)/sessions/new', name: 'activity-sessions-new', component: () => import('../views/ActivitySessionsNewView.vue'), meta: { title: 'activities.sessionsForm.title' } },
  { path: '/activities/:id(\\d+)/sessions/:session(\\d+)', name: 'activity-session', component: () => import('../views/ActivitySessionView.vue'), meta: { title: 'activities.session.title' } },
  { path: '/activities/:id(\\d+)/sessions/:session(\\d+)/check-in', name: 'activity-check-in', component: () => import('../views/ActivityCheckInView.vue'), meta: { title: 'activities.checkIn.title' } },
]
