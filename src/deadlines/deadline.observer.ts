import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { DossierRepository } from '../records/dossier.repository.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { TaskRepository } from '../records/task.repository.ts'
import { defineObserver } from '../steps/observer.ts'
import { Channel, DossierStatus } from '../records/statuses.ts'
import { appointmentDate } from './appointment.ts'
import type { DeadlineWatch } from './deadline-watch.ts'

/** Statuses in which the applicant has the ball and the legal clock stops. */
const PAUSED: ReadonlySet<string> = new Set([DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.FINANCIAL_OBLIGATION])
/** Reaching one of these for the first time means the dossier was accepted (tiếp nhận): the legal clock starts. */
const ACCEPTED_STATES: ReadonlySet<string> = new Set([
  DossierStatus.ACCEPTED,
  DossierStatus.IN_PROCESS,
  DossierStatus.FINANCIAL_OBLIGATION,
  DossierStatus.RESULT_READY,
  DossierStatus.RETURNED,
])

/**
 * Keeps each dossier's appointment date with its steps: set when the dossier is accepted, stopped
 * while it waits for a supplement or a financial obligation, and on resume moved by the working time
 * spent waiting (PAUSE) or restarted in full (RESTART, supplements only).
 */
export function createDeadlineObserver(deps: {
  calendar: () => WorkingCalendar
  dossiers: DossierRepository
  tasks: TaskRepository
  history: HistoryRepository
  watch: DeadlineWatch
}) {
  return defineObserver({
    name: 'deadlines',
    reads: ['liveAlarms'],
    async apply(change) {
      const { uow, now, version, read } = change
      const tx = uow.tx
      let open = change.open
      // The dossier row was locked (select *) at the start of the step: no need to read it again.
      const d = change.dossier
      const cal = deps.calendar()
      const meta = version.metadata
      // Dossiers from difficult areas get the procedure's extra time (e.g. +10 days for S5).
      const limit =
        meta.timeLimit === null
          ? null
          : meta.timeLimit + ((d.data as { difficultArea?: unknown })?.difficultArea === true ? (meta.difficultAreaExtra ?? 0) : 0)
      const patch: Parameters<DossierRepository['updateDeadline']>[2] = {}
      const entries = []
      if (!d.appointment_at && ACCEPTED_STATES.has(change.to)) {
        // Counted from the receipt of the complete dossier: the acceptance itself, except for post
        // (the hand-over record's signature time, docs/domain.md#postal-submission-time) unless a supplement was needed first.
        const receivedAt = d.received_at ?? (d.channel === Channel.POST && !d.supplement_count ? d.submitted_at : now)
        const due = appointmentDate(cal, receivedAt, limit, meta.timeLimitUnit)
        patch.received_at = receivedAt
        if (due) {
          patch.appointment_at = due
          entries.push({
            dossier_id: d.id,
            action: 'deadline.appointment_set',
            actor: 'system',
            details: { appointmentAt: due.toISOString(), timeLimit: limit, unit: meta.timeLimitUnit },
            at: now,
          })
        }
      }
      if (PAUSED.has(change.to) && !PAUSED.has(change.from) && !d.paused_at) {
        patch.paused_at = now
        entries.push({ dossier_id: d.id, action: 'deadline.paused', actor: 'system', status: change.to, at: now })
      }
      if (PAUSED.has(change.from) && !PAUSED.has(change.to) && d.paused_at) {
        const minutes = cal.workingMinutesBetween(new Date(d.paused_at), now)
        const restart = change.from === DossierStatus.SUPPLEMENT_REQUESTED && meta.supplementPolicy === 'RESTART'
        const current = patch.appointment_at ?? (d.appointment_at ? new Date(d.appointment_at) : null)
        const moved = restart
          ? appointmentDate(cal, now, limit, meta.timeLimitUnit)
          : current
            ? cal.addWorkingMinutes(current, minutes)
            : null
        patch.paused_at = null
        patch.paused_minutes = (d.paused_minutes ?? 0) + Math.round(minutes)
        if (moved) patch.appointment_at = moved
        if (!restart && minutes > 0) {
          const moved = new Map<string, Date>()
          // The tasks still open must be read after this step's writes (a task it closed is not moved).
          await uow.flush()
          for (const t of await deps.tasks.openWithDueDate(tx, d.id, now)) {
            const due = cal.addWorkingMinutes(new Date(t.due_at!), minutes)
            moved.set(t.id, due)
            uow.write(deps.tasks.setDueDate(tx, t.id, due))
          }
          open = open.map((t) => (moved.has(t.id) ? { ...t, due_at: moved.get(t.id)! } : t))
        }
        entries.push({
          dossier_id: d.id,
          action: 'deadline.resumed',
          actor: 'system',
          details: { policy: restart ? 'RESTART' : 'PAUSE', pausedWorkingMinutes: minutes, appointmentAt: moved?.toISOString() ?? null },
          at: now,
        })
      }
      uow.write(deps.dossiers.updateDeadline(tx, d.id, patch))
      uow.write(deps.history.append(tx, entries))
      const after = { ...d, ...patch, status: change.to }
      return deps.watch.reconcile(uow, after, open, now, read.liveAlarms)
    },
  })
}
