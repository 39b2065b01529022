// The console's reports strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  consoleReports: { title: '统计报表' },
}

export const en: typeof zh = {
  consoleReports: { title: 'Reports' },
}
