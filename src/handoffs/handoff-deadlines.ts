import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { HandoffRepository, HandoffRow } from './handoff.repository.ts'

export type HandoffAlarm = 'due_soon' | 'overdue'

/** The deadline state of a handoff still waiting for its answer, in working time like a task's. */
export function handoffAlarm(
  cal: WorkingCalendar,
  h: Pick<HandoffRow, 'due_at'>,
  now: Date,
  dueSoonWorkingMinutes: number,
): HandoffAlarm | null {
  if (!h.due_at) return null
  const due = new Date(h.due_at)
  if (due <= now) return 'overdue'
  return cal.workingMinutesBetween(now, due) <= dueSoonWorkingMinutes ? 'due_soon' : null
}

const TEXT: Record<HandoffAlarm, (h: HandoffRow) => string> = {
  due_soon: (h) => `Hồ sơ ${h.business_key}: ${h.receiving_agency ?? h.topic} sắp hết hạn trả lời liên thông (${h.topic})`,
  overdue: (h) => `Hồ sơ ${h.business_key}: ${h.receiving_agency ?? h.topic} đã quá hạn trả lời liên thông (${h.topic})`,
}

/**
 * Watches the handoffs that wait for another agency's answer (`tthc:handoff workingDays`): a due-soon
 * and an overdue alarm each, raised once (the notification's event id), with a history line naming
 * the late agency. Run every minute by the workers' sweep; Postgres holds everything it needs.
 */
export function createHandoffDeadlineWatch(deps: {
  db: Db
  clock: Clock
  calendar: () => WorkingCalendar
  handoffs: HandoffRepository
  dueSoonWorkingMinutes: number
}) {
  return {
    async run(limit = 1000): Promise<number> {
      const now = deps.clock.now()
      const cal = deps.calendar()
      let raised = 0
      for (const h of await deps.handoffs.awaitingWithDue(deps.db, limit)) {
        const kind = handoffAlarm(cal, h, now, deps.dueSoonWorkingMinutes)
        if (!kind) continue
        raised += await deps.handoffs.raiseAlarm(deps.db, h, kind, TEXT[kind](h), now)
      }
      return raised
    },
  }
}
export type HandoffDeadlineWatch = ReturnType<typeof createHandoffDeadlineWatch>
