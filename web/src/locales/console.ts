// The console's strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  console: { title: '工作台' },
}

export const en: typeof zh = {
  console: { title: 'Console' },
}
