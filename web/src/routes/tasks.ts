import type { RouteRecordRaw } from 'vue-router'

// The tasks screens.
export const tasksRoutes: RouteRecordRaw[] = [
  { path: '/tasks', name: 'tasks', component: () => import('../views/TasksView.vue'), meta: { title: 'pages.tasks' } },
]
