/** ISO 8601 durations as written in diagrams (`P2D`, `PT4H30M`, `P1W`). Calendar arithmetic in UTC. */
const PATTERN =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/

export interface IsoDuration {
  years: number
  months: number
  weeks: number
  days: number
  hours: number
  minutes: number
  seconds: number
}

export function parseIsoDuration(text: string): IsoDuration | null {
  const m = PATTERN.exec(text.trim())
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) return null
  const n = (i: number) => (m[i] ? Number(m[i]!.replace(',', '.')) : 0)
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) }
}

export function addIsoDuration(from: Date, d: IsoDuration): Date {
  const out = new Date(from.getTime())
  if (d.years || d.months) out.setUTCMonth(out.getUTCMonth() + d.years * 12 + d.months)
  const ms = ((d.weeks * 7 + d.days) * 24 * 3600 + d.hours * 3600 + d.minutes * 60 + d.seconds) * 1000
  return new Date(out.getTime() + ms)
}

/**
 * The duration in working minutes, one day being `minutesPerDay` and one week five working days;
 * null when it has years or months (those stay calendar arithmetic).
 */
export function workingMinutesOf(d: IsoDuration, minutesPerDay: number): number | null {
  if (d.years || d.months) return null
  return (d.weeks * 5 + d.days) * minutesPerDay + d.hours * 60 + d.minutes + d.seconds / 60
}

/** A due date from a `camunda:dueDate` value: an ISO duration from `now`, or an ISO date-time. */
export function resolveDueDate(value: unknown, now: Date): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  if (typeof value !== 'string' || !value.trim()) return null
  const dur = parseIsoDuration(value)
  if (dur) return addIsoDuration(now, dur)
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || value.length <= 10 ? value : `${value}+07:00`)
    return Number.isNaN(d.getTime()) ? null : d
  }
  return null
}
