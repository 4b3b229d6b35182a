import { vietnamDay } from '../calendar/vietnam-time.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { TaskRow } from '../records/task.repository.ts'
import type { DeadlineState } from '../records/alarm.repository.ts'

/** How a finished dossier or step kept its deadline: trước hạn, đúng hạn, quá hạn. */
export type DeadlineOutcome = 'early' | 'on_time' | 'late'
/**
 * The deadline state shown to users: the live state while the deadline runs, the final outcome once
 * the work is done, `none` when it ended without one (no deadline, or a step cancelled).
 */
export type DeadlineView = DeadlineState | DeadlineOutcome | 'none'

/** Done before, on or after the due date, compared by Vietnam date (the legal reading of "on time"). */
export function deadlineOutcome(doneAt: Date | string, dueAt: Date | string): DeadlineOutcome {
  const done = vietnamDay(doneAt),
    due = vietnamDay(dueAt)
  return done < due ? 'early' : done === due ? 'on_time' : 'late'
}

/** A dossier's outcome is fixed when its processing finished (result ready, withdrawn, stopped, refused). */
export function dossierDeadlineView(d: Pick<DossierRow, 'finished_at' | 'appointment_at' | 'deadline_state'>): DeadlineView {
  if (!d.finished_at) return (d.deadline_state ?? 'on_track') as DeadlineState
  return d.appointment_at ? deadlineOutcome(d.finished_at, d.appointment_at) : 'none'
}

export function taskDeadlineView(t: Pick<TaskRow, 'status' | 'completed_at' | 'due_at' | 'deadline_state'>): DeadlineView {
  if (t.status === 'open') return (t.deadline_state ?? 'on_track') as DeadlineState
  return t.status === 'completed' && t.completed_at && t.due_at ? deadlineOutcome(t.completed_at, t.due_at) : 'none'
}
