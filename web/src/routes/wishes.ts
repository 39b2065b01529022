import type { RouteRecordRaw } from 'vue-router'

// The micro-wish screens, and the merchant's item editing (its register form, reused).
export const wishesRoutes: RouteRecordRaw[] = [
  { path: '/wishes', name: 'wishes', component: () => import('../views/WishesView.vue'), meta: { title: 'pages.wishes' } },
  { path: '/wishes/new', name: 'wish-new', component: () => import('../views/WishFormView.vue'), meta: { title: 'wishes.formTitle' } },
  { path: '/wishes/:id(\\d+)', name: 'wish', component: () => import('../views/WishView.vue'), meta: { title: 'wishes.detailTitle' } },
  { path: '/merchant/pledges/:id(\\d+)/edit', name: 'merchant-pledge-edit', component: () => import('../views/MerchantPledgeView.vue'), meta: { title: 'merchantItems.editTitle' } },
]
