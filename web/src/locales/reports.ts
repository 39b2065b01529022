// The reports screens' strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  reports: {},
}

export const en: typeof zh = {
  reports: {},
}
