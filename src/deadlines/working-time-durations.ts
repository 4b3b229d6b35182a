import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { TimerResolution } from '../engine/clocked-timer.ts'
import type { TimeLimitUnit } from '../procedures/metadata.ts'
import { addIsoDuration, parseIsoDuration, type IsoDuration } from './iso-duration.ts'

const onlyDays = (d: IsoDuration) => !d.years && !d.months && !d.hours && !d.minutes && !d.seconds && (d.days > 0 || d.weeks > 0)

/**
 * How a diagram's timer values read in a procedure: in a procedure counted in working days, a
 * whole-day duration (`P3D`, `P1W` = 5 days) is working days; anything else is calendar time.
 * Dates without an offset are Vietnam time.
 */
export function resolveTimerValue(cal: () => WorkingCalendar, unit: TimeLimitUnit) {
  return (timerType: string, value: string, now: Date): TimerResolution | null => {
    const text = value.trim()
    if (timerType === 'timeDate') {
      const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) || !text.includes('T') ? text : `${text}+07:00`)
      return Number.isNaN(d.getTime()) ? null : { expireAt: d }
    }
    let repeat: number | undefined
    let durationText = text
    if (timerType === 'timeCycle') {
      const m = /^R(\d*)\/(P[^/]+)$/.exec(text)
      if (!m) return null
      repeat = m[1] ? Number(m[1]) : -1
      durationText = m[2]!
    }
    const d = parseIsoDuration(durationText)
    if (!d) return null
    if (unit === 'workingDays' && onlyDays(d)) {
      return { expireAt: cal().addWorkingDays(now, d.weeks * 5 + d.days), repeat }
    }
    return { expireAt: addIsoDuration(now, d), repeat }
  }
}
