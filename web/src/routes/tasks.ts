import type { RouteRecordRaw } from 'vue-router'

// The tasks screens.
export const tasksRoutes: RouteRecordRaw[] = [
  { path: '/tasks', name: 'tasks', component: () => import('../views/TasksView.vue'), meta: { title: 'pages.tasks' } },
  { path: '/tasks/hours', name: 'hours', component: () => import('../views/HoursView.vue'), meta: { title: 'tasks.hoursTitle' } },
  { path: '/tasks/:id(\\d+)', name: 'task', component: () => import('../views/TaskView.vue'), meta: { title: 'tasks.detailTitle' } },
]
