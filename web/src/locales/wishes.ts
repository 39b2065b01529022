// The wishes screens' strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  wishes: {},
}

export const en: typeof zh = {
  wishes: {},
}
