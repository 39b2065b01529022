// The console's broadcasts strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  consoleBroadcasts: { title: '通知与行动' },
}

export const en: typeof zh = {
  consoleBroadcasts: { title: 'Broadcasts' },
}
