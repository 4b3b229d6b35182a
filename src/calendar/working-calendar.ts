import { addDays, defaultHolidays, type CalendarEntry } from './holidays.ts'

/**
 * Working time in Vietnam (UTC+7) whatever the server's zone: pure functions over a holiday table,
 * never reading the clock. Durations are counted in working minutes; one working day is the sum of the
 * day's working hours (8 h by default), so half days work too.
 */
const VN = 7 * 60 // minutes east of UTC
const MIN = 60_000

export interface WorkingHours {
  /** Ranges in minutes after local midnight, e.g. [[420, 690], [810, 1020]] for 07:00–11:30, 13:30–17:00. */
  ranges: Array<[number, number]>
}

export const DEFAULT_HOURS: WorkingHours = {
  ranges: [
    [7 * 60, 11 * 60 + 30],
    [13 * 60 + 30, 17 * 60],
  ],
}

export function parseWorkingHours(text: string): WorkingHours {
  const ranges = text.split(',').map((part) => {
    const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(part)
    if (!m) throw new Error(`working hours "${part}" must look like 07:00-11:30`)
    return [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] as [number, number]
  })
  for (let i = 0; i < ranges.length; i++) {
    const [a, b] = ranges[i]!
    if (!(a < b && b <= 24 * 60) || (i > 0 && a < ranges[i - 1]![1]))
      throw new Error('working hours must be increasing, non-overlapping ranges within one day')
  }
  return { ranges }
}

/** Local calendar day of an instant. */
export function localDay(at: Date): string {
  return new Date(at.getTime() + VN * MIN).toISOString().slice(0, 10)
}
function localMinute(at: Date): number {
  const t = new Date(at.getTime() + VN * MIN)
  return t.getUTCHours() * 60 + t.getUTCMinutes() + t.getUTCSeconds() / 60 + t.getUTCMilliseconds() / 60000
}
/** The instant of `minute` minutes after local midnight of `day`. */
function instant(day: string, minute: number): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - VN * MIN + minute * MIN)
}

export interface WorkingCalendar {
  readonly minutesPerDay: number
  isWorkingDay(day: string): boolean
  isWorkingTime(at: Date): boolean
  nextOpening(at: Date): Date
  /** The instant `minutes` working minutes after `at`; one that lands on a closing time ends there (never at the next opening). */
  addWorkingMinutes(at: Date, minutes: number): Date
  /** The instant `minutes` working minutes before `at` (the due-soon warning of a deadline). */
  subtractWorkingMinutes(at: Date, minutes: number): Date
  addWorkingDays(at: Date, days: number): Date
  addWorkingHours(at: Date, hours: number): Date
  workingMinutesBetween(from: Date, to: Date): number
  /** Calendar days, then rolled forward (same time of day) off a non-working day. */
  addCalendarDays(at: Date, days: number): Date
  addMonths(at: Date, months: number): Date
  /** Entries in force for a year: the official table when entered, else defaults. */
  entries(year: number): CalendarEntry[]
}

/**
 * `official` holds the entries admins entered, by year. A year with no entry uses the computed
 * defaults; a year with entries uses exactly them (plus weekends).
 */
export function createWorkingCalendar(official: Map<number, CalendarEntry[]>, hours: WorkingHours = DEFAULT_HOURS): WorkingCalendar {
  const minutesPerDay = hours.ranges.reduce((s, [a, b]) => s + (b - a), 0)
  const years = new Map<number, { off: Set<string>; work: Set<string>; entries: CalendarEntry[] }>()
  const year = (y: number) => {
    let v = years.get(y)
    if (!v) {
      const entries = official.get(y)?.length ? official.get(y)! : defaultHolidays(y)
      v = {
        entries,
        off: new Set(entries.filter((e) => e.kind === 'day_off').map((e) => e.date)),
        work: new Set(entries.filter((e) => e.kind === 'working_day').map((e) => e.date)),
      }
      years.set(y, v)
    }
    return v
  }
  const isWorkingDay = (day: string) => {
    const y = year(Number(day.slice(0, 4)))
    if (y.work.has(day)) return true
    if (y.off.has(day)) return false
    const dow = new Date(`${day}T00:00:00Z`).getUTCDay()
    return dow !== 0 && dow !== 6
  }
  const nextWorkingDay = (day: string) => {
    let d = addDays(day, 1)
    for (let i = 0; i < 400 && !isWorkingDay(d); i++) d = addDays(d, 1)
    return d
  }

  function addWorkingMinutes(at: Date, minutes: number): Date {
    if (minutes < 0) throw new RangeError('working minutes must be ≥ 0')
    // Nothing to add, nothing moves: a deadline at a closing time (17:00 of day D) stays there and is
    // never rewritten as the next opening (07:00 of D+1), which would print and compare as a later day.
    if (minutes === 0) return at
    let day = localDay(at)
    let m = localMinute(at)
    let left = minutes
    for (let guard = 0; guard < 100_000; guard++) {
      if (isWorkingDay(day)) {
        for (const [a, b] of hours.ranges) {
          if (m >= b) continue
          const start = Math.max(m, a)
          if (start + left <= b) return instant(day, start + left)
          left -= b - start
          m = b
        }
      }
      day = addDays(day, 1)
      m = 0
    }
    throw new RangeError('duration too long')
  }

  function subtractWorkingMinutes(at: Date, minutes: number): Date {
    if (minutes < 0) throw new RangeError('working minutes must be ≥ 0')
    if (minutes === 0) return at
    let day = localDay(at)
    let m = localMinute(at)
    let left = minutes
    for (let guard = 0; guard < 100_000; guard++) {
      if (isWorkingDay(day)) {
        for (let i = hours.ranges.length - 1; i >= 0; i--) {
          const [a, b] = hours.ranges[i]!
          if (m <= a) continue
          const end = Math.min(m, b)
          // Landing exactly on an opening, the earlier equivalent instant (the previous closing) is taken.
          if (end - left > a) return instant(day, end - left)
          left -= end - a
          m = a
        }
      }
      day = addDays(day, -1)
      m = 24 * 60
    }
    throw new RangeError('duration too long')
  }

  function workingMinutesBetween(from: Date, to: Date): number {
    if (to <= from) return 0
    let total = 0
    let day = localDay(from)
    const lastDay = localDay(to)
    for (let guard = 0; guard < 100_000; guard++) {
      if (isWorkingDay(day)) {
        const lo = day === localDay(from) ? localMinute(from) : 0
        const hi = day === lastDay ? localMinute(to) : 24 * 60
        for (const [a, b] of hours.ranges) total += Math.max(0, Math.min(b, hi) - Math.max(a, lo))
      }
      if (day === lastDay) return Math.round(total * 1000) / 1000
      day = addDays(day, 1)
    }
    throw new RangeError('interval too long')
  }

  return {
    minutesPerDay,
    isWorkingDay,
    isWorkingTime(at) {
      const m = localMinute(at)
      return isWorkingDay(localDay(at)) && hours.ranges.some(([a, b]) => m >= a && m < b)
    },
    nextOpening(at) {
      if (this.isWorkingTime(at)) return at
      const day = localDay(at)
      const m = localMinute(at)
      if (isWorkingDay(day)) {
        const later = hours.ranges.find(([a]) => a > m)
        if (later) return instant(day, later[0])
      }
      return instant(nextWorkingDay(day), hours.ranges[0]![0])
    },
    addWorkingMinutes,
    subtractWorkingMinutes,
    addWorkingDays: (at, days) => addWorkingMinutes(at, days * minutesPerDay),
    addWorkingHours: (at, h) => addWorkingMinutes(at, h * 60),
    workingMinutesBetween,
    addCalendarDays(at, days) {
      const target = new Date(at.getTime() + days * 86_400_000)
      const day = localDay(target)
      if (isWorkingDay(day)) return target
      return instant(nextWorkingDay(day), localMinute(target))
    },
    addMonths(at, months) {
      const local = new Date(at.getTime() + VN * MIN)
      const targetMonth = local.getUTCMonth() + months
      const y = local.getUTCFullYear() + Math.floor(targetMonth / 12)
      const mo = ((targetMonth % 12) + 12) % 12
      const lastDom = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate()
      const day = `${y}-${String(mo + 1).padStart(2, '0')}-${String(Math.min(local.getUTCDate(), lastDom)).padStart(2, '0')}`
      const m = localMinute(at)
      return isWorkingDay(day) ? instant(day, m) : instant(nextWorkingDay(day), m)
    },
    entries: (y) => year(y).entries,
  }
}
