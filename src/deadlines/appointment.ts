import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { UserTaskSpec } from '../engine/definition.ts'
import { evaluateExpression, isExpression } from '../engine/expressions.ts'
import type { TimeLimitUnit } from '../procedures/metadata.ts'
import { resolveDueDate } from './iso-duration.ts'

/**
 * Appointment date (ngày hẹn trả kết quả) = receipt + the procedure's time limit in its unit.
 * Counting starts at the next opening when the dossier arrives outside working hours.
 */
export function appointmentDate(cal: WorkingCalendar, receivedAt: Date, limit: number | null, unit: TimeLimitUnit): Date | null {
  if (limit === null) return null
  const start = cal.nextOpening(receivedAt)
  switch (unit) {
    case 'workingDays': return cal.addWorkingDays(start, limit)
    case 'hours': return cal.addWorkingHours(start, limit)
    case 'calendarDays': return cal.addCalendarDays(start, limit)
    case 'months': return cal.addMonths(start, limit)
  }
}

/** A user task's due date: `tthc:workingDays` in working days, else `camunda:dueDate` (ISO duration, date or expression). */
export function taskDueDate(cal: WorkingCalendar, spec: UserTaskSpec | undefined, vars: Record<string, unknown>, now: Date): Date | null {
  if (!spec) return null
  if (spec.workingDays) return cal.addWorkingDays(cal.nextOpening(now), spec.workingDays)
  if (!spec.dueDate) return null
  return resolveDueDate(isExpression(spec.dueDate) ? evaluateExpression(spec.dueDate, vars) : spec.dueDate, now)
}
