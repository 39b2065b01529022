// The console's grid map strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  consoleMap: { title: '分色感知图' },
}

export const en: typeof zh = {
  consoleMap: { title: 'Grid map' },
}
