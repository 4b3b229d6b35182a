import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { UserTaskSpec } from '../engine/definition.ts'
import { evaluateExpression, isExpression } from '../engine/expressions.ts'
import type { TimeLimitUnit } from '../procedures/metadata.ts'
import { parseIsoDuration, resolveDueDate, workingMinutesOf } from './iso-duration.ts'

/**
 * Appointment date (ngày hẹn trả kết quả) = receipt + the procedure's time limit in its unit.
 * Counting starts at the next opening when the dossier arrives outside working hours.
 */
export function appointmentDate(cal: WorkingCalendar, receivedAt: Date, limit: number | null, unit: TimeLimitUnit): Date | null {
  if (limit === null) return null
  const start = cal.nextOpening(receivedAt)
  switch (unit) {
    case 'workingDays':
      return cal.addWorkingDays(start, limit)
    case 'hours':
      return cal.addWorkingHours(start, limit)
    case 'calendarDays':
      return cal.addCalendarDays(start, limit)
    case 'months':
      return cal.addMonths(start, limit)
  }
}

/** Units of a procedure counted in working time: its steps' durations are working time too. */
const WORKING_TIME_UNITS: ReadonlySet<TimeLimitUnit> = new Set(['workingDays', 'hours'])

/**
 * A user task's due date: `tthc:workingDays` in working days, else `camunda:dueDate` (ISO duration,
 * date or expression). In a procedure counted in working time (`unit` working days or hours) a
 * duration without years or months is working time, counted from the next opening: `PT2H` is two
 * working hours, `PT30M` thirty working minutes, `P3D` three working days.
 */
export function taskDueDate(
  cal: WorkingCalendar,
  spec: UserTaskSpec | undefined,
  vars: Record<string, unknown>,
  now: Date,
  transferCutoffMinutes = 15 * 60,
  unit: TimeLimitUnit | null = null,
): Date | null {
  if (!spec) return null
  if (spec.dueRule === 'transfer') return transferDue(cal, now, transferCutoffMinutes)
  if (spec.workingDays) return cal.addWorkingDays(cal.nextOpening(now), spec.workingDays)
  if (!spec.dueDate) return null
  const value = isExpression(spec.dueDate) ? evaluateExpression(spec.dueDate, vars) : spec.dueDate
  if (unit && WORKING_TIME_UNITS.has(unit) && typeof value === 'string') {
    const d = parseIsoDuration(value)
    const minutes = d ? workingMinutesOf(d, cal.minutesPerDay) : null
    if (minutes !== null) return cal.addWorkingMinutes(cal.nextOpening(now), minutes)
  }
  return resolveDueDate(value, now)
}

/**
 * Transfer (chuyển hồ sơ, docs/domain.md#transfer-cutoff): the same working day, or at the next day's opening when the dossier
 * was received after the cut-off (15:00 by default, Vietnam time).
 */
export function transferDue(cal: WorkingCalendar, receivedAt: Date, cutoffMinutes: number): Date {
  const start = cal.nextOpening(receivedAt)
  const local = new Date(start.getTime() + 7 * 3_600_000)
  const endOfDay = endOfLocalDay(start)
  if (local.getUTCHours() * 60 + local.getUTCMinutes() >= cutoffMinutes) return cal.nextOpening(endOfDay)
  return cal.addWorkingMinutes(start, cal.workingMinutesBetween(start, endOfDay))
}

function endOfLocalDay(t: Date): Date {
  const local = new Date(t.getTime() + 7 * 3_600_000)
  return new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 23, 59, 59) - 7 * 3_600_000)
}
