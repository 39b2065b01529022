/** How the console words things: categories, levels, countdowns and the suggestion engine's reasons. */
import { i18n } from '../../i18n'
import { consoleState, now, type Action } from './store'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
const te = (key: string) => i18n.global.te(key)

export function categoryLabel(name: string | undefined): string {
  if (!name) return ''
  if (te(`console.categories.${name}`)) return t(`console.categories.${name}`)
  const label = consoleState.categories.find((c) => c.name === name)?.label
  return label || name
}

export function stateLabel(state: string | undefined): string {
  return state && te(`console.states.${state}`) ? t(`console.states.${state}`) : state ?? ''
}

export function verbLabel(verb: string | undefined): string {
  return verb && te(`console.verbs.${verb}`) ? t(`console.verbs.${verb}`) : verb ?? ''
}

export function levelLabel(level: number | undefined): string {
  return t(`console.level.${Math.min(3, Math.max(1, level ?? 1))}`)
}

/** 1:02:03 or 12:05: hours only when there are some. */
export function span(ms: number): string {
  const total = Math.max(0, Math.floor(Math.abs(ms) / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`
}

/** The countdown to the action's next escalation, as words (never colour alone). */
export function countdown(action: Action): { text: string; late: boolean; label: string } {
  if (!action.deadline_at) return { text: t('console.clock.none'), late: false, label: '' }
  const left = Date.parse(action.deadline_at) - now.value
  const label = action.deadline_kind === 'resolve' ? t('console.clock.resolve') : t('console.clock.accept')
  if (left > 0) return { text: t('console.clock.due', { t: span(left) }), late: false, label }
  const key = (action.level ?? 1) >= 3 ? 'console.clock.lateTop' : 'console.clock.late'
  return { text: t(key, { t: span(left) }), late: true, label }
}

const PATTERNS: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^serves (.+) \(not (.+)\)$/, (m) => t('console.reasons.servesNot', { grid: m[1], other: m[2] })],
  [/^serves (.+)$/, (m) => t('console.reasons.serves', { grid: m[1] })],
  [/^skill '(.+)' at level (\d+) \(needs (\d+)\)$/, (m) => t('console.reasons.skill', { skill: m[1], level: m[2], min: m[3] })],
  [/^(\d+) open actions? of (\d+)$/, (m) => t('console.reasons.load', { n: m[1], max: m[2] })],
  [/^never dispatched$/, () => t('console.reasons.never')],
  [/^last action just now$/, () => t('console.reasons.justNow')],
  [/^last action (\d+) (minute|hour|day)s? ago$/, (m) => t('console.reasons.ago', { n: m[1], unit: t(`console.reasons.units.${m[2]}`) })],
]

/** The suggestion engine's reasons come in English; said in the reader's language where known. */
export function reasonText(reason: string): string {
  for (const [pattern, say] of PATTERNS) {
    const match = reason.match(pattern)
    if (match) return say(match)
  }
  return reason
}
