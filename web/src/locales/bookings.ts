// The bookings screens' strings: zh-CN first; en has the same keys (the type says so).
export const zh = {
  bookings: {},
}

export const en: typeof zh = {
  bookings: {},
}
