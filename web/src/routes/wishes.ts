import type { RouteRecordRaw } from 'vue-router'

// The wishes screens.
export const wishesRoutes: RouteRecordRaw[] = [
  { path: '/wishes', name: 'wishes', component: () => import('../views/WishesView.vue'), meta: { title: 'pages.wishes' } },
]
