// The tasks screens' strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  tasks: {},
}

export const en: typeof zh = {
  tasks: {},
}
