import type { WorkingCalendar } from './working-calendar.ts'

const VN_OFFSET_MS = 7 * 3_600_000
const DAY_MS = 86_400_000
/** The Vietnam calendar day of an instant, as a day number (days since 1970-01-01). */
const dayNumber = (t: number) => Math.floor((t + VN_OFFSET_MS) / DAY_MS)
/** The instant Vietnam day `n` begins. */
const dayStart = (n: number) => n * DAY_MS - VN_OFFSET_MS
const isoDay = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10)

/** Per calendar (a new one comes with every change of the holiday table): working days before each day, from `base`. */
const prefixes = new WeakMap<WorkingCalendar, { base: number; before: number[] }>()

function workingDaysBefore(cal: WorkingCalendar, day: number): number {
  let p = prefixes.get(cal)
  if (!p || day < p.base) {
    p = { base: day - 800, before: [0] }
    prefixes.set(cal, p)
  }
  const i = day - p.base
  while (p.before.length <= i) {
    const n = p.base + p.before.length - 1
    p.before.push(p.before[p.before.length - 1]! + (cal.isWorkingDay(isoDay(n)) ? 1 : 0))
  }
  return p.before[i]!
}

/**
 * The last head (working minutes from an instant to the end of its day) and tail (from its day's start
 * to it) computed, per calendar. A page of a list measures every row against the same "now": one side
 * of each interval repeats from row to row, and is computed once.
 */
const lastParts = new WeakMap<WorkingCalendar, { head: [number, number]; tail: [number, number] }>()
function partOfDay(cal: WorkingCalendar, side: 'head' | 'tail', at: Date, compute: () => number): number {
  let last = lastParts.get(cal)
  if (!last) lastParts.set(cal, (last = { head: [NaN, 0], tail: [NaN, 0] }))
  const t = at.getTime()
  if (last[side][0] === t) return last[side][1]
  const v = compute()
  last[side] = [t, v]
  return v
}

/**
 * Working minutes between two instants, equal to `cal.workingMinutesBetween` (test/supervision-board.test.ts
 * compares them) but without walking every day in between: the first and last day are measured by the
 * calendar, the full days between are counted from a cached running count of working days. A list of
 * dossiers overdue for months costs microseconds per row instead of a walk over every day of each delay.
 */
export function workingMinutesBetweenFast(cal: WorkingCalendar, from: Date, to: Date): number {
  if (to <= from) return 0
  const a = dayNumber(from.getTime()),
    b = dayNumber(to.getTime())
  if (b - a < 2) return cal.workingMinutesBetween(from, to)
  const head = partOfDay(cal, 'head', from, () => cal.workingMinutesBetween(from, new Date(dayStart(a + 1))))
  const tail = partOfDay(cal, 'tail', to, () => cal.workingMinutesBetween(new Date(dayStart(b)), to))
  const full = workingDaysBefore(cal, b) - workingDaysBefore(cal, a + 1)
  return Math.round((head + full * cal.minutesPerDay + tail) * 1000) / 1000
}

/** Working minutes from `now` to a deadline; negative: how long after it `now` is. */
export function workingMinutesLeft(cal: WorkingCalendar, now: Date, deadline: Date): number {
  return deadline > now ? workingMinutesBetweenFast(cal, now, deadline) : -workingMinutesBetweenFast(cal, deadline, now)
}
