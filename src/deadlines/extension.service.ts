import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import type { Principal } from '../auth/principal.ts'
import { authorize, canReadDossier, dossierResource } from '../auth/policy.ts'
import { appointmentDate } from './appointment.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { DossierRepository } from '../records/dossier.repository.ts'
import { FINAL_STATUSES, type DossierStatus } from '../records/statuses.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import { transaction } from '../db/unit-of-work.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { DeadlineWatch } from './deadline-watch.ts'
import type { CitizenNotices } from '../notifications/citizen-notices.ts'

/** Bound of a new appointment for a procedure without a time limit: this many calendar days after the current one. */
const EXTENSION_WITHOUT_TIME_LIMIT_DAYS = 30

/**
 * Apology with a new appointment (văn bản xin lỗi và hẹn lại ngày trả, Mẫu 04, docs/domain.md#apology-new-appointment): at least one
 * working day before the deadline, with a reason, once per dossier, by the roles the rule table names
 * (auth/policy.ts). The new appointment comes after the current one and no later than the procedure's
 * own time limit counted again from it (docs/security.md).
 */
export function createExtensionService(deps: {
  db: Db
  clock: Clock
  calendar: () => WorkingCalendar
  steps: Pick<StepRunner, 'lock'>
  dossiers: DossierRepository
  history: HistoryRepository
  outbox: OutboxRepository
  watch: DeadlineWatch
  versions: ProcedureVersionCache
  /** The applicant is told (thư xin lỗi) in the extension's transaction. */
  notices?: CitizenNotices
}) {
  /** The latest new appointment allowed after `old`. */
  async function latestAllowed(d: { procedure_version_id: number }, old: Date): Promise<Date> {
    const { metadata: m } = await deps.versions.get(deps.db, d.procedure_version_id)
    return (
      appointmentDate(deps.calendar(), old, m.timeLimit, m.timeLimitUnit) ??
      new Date(old.getTime() + EXTENSION_WITHOUT_TIME_LIMIT_DAYS * 86_400_000)
    )
  }

  return {
    async extend(p: Principal, dossierId: string, input: { newAppointmentAt: Date; reason: string }) {
      if (Number.isNaN(input.newAppointmentAt.getTime()))
        throw new AppError('VALIDATION_FAILED', 'Ngày hẹn mới không hợp lệ', { path: '/newAppointmentAt' })
      return transaction(deps.db, async (uow) => {
        const tx = uow.tx
        // The alarms' task rows may be touched: the locks of a step.
        const locked = await deps.steps.lock(uow, { dossier: dossierId })
        const d = locked.dossiers[0]
        if (!d || !canReadDossier(p, d)) throw new AppError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${dossierId}`)
        const handling = locked.openTasks
        authorize('dossier.extend', p, {
          ...dossierResource(d),
          candidateGroups: handling.flatMap((t) => t.candidate_groups),
          candidateUsers: handling.flatMap((t) => t.candidate_users),
          assignee: handling.find((t) => t.assignee === p.userId)?.assignee ?? null,
        })
        if (FINAL_STATUSES.has(d.status as DossierStatus) || d.status === 'RESULT_READY')
          throw new AppError('EXTENSION_NOT_ALLOWED', 'Hồ sơ đã kết thúc xử lý')
        if (!d.appointment_at) throw new AppError('EXTENSION_NOT_ALLOWED', 'Hồ sơ chưa có ngày hẹn trả')
        if (d.extended_at) throw new AppError('EXTENSION_ALREADY_USED', 'Hồ sơ chỉ được hẹn lại ngày trả kết quả một lần')
        const now = deps.clock.now()
        const cal = deps.calendar()
        const old = new Date(d.appointment_at)
        if (cal.workingMinutesBetween(now, old) < cal.minutesPerDay) {
          throw new AppError('EXTENSION_TOO_LATE', 'Văn bản xin lỗi và hẹn lại phải gửi chậm nhất 01 ngày làm việc trước ngày hẹn trả', {
            appointmentAt: old,
          })
        }
        if (input.newAppointmentAt <= old)
          throw new AppError('VALIDATION_FAILED', 'Ngày hẹn mới phải sau ngày hẹn cũ', { path: '/newAppointmentAt', after: old })
        const max = await latestAllowed(d, old)
        if (input.newAppointmentAt > max) {
          throw new AppError(
            'VALIDATION_FAILED',
            `Ngày hẹn mới không được muộn hơn ${max.toISOString()} (thời hạn giải quyết của thủ tục tính lại từ ngày hẹn cũ)`,
            { path: '/newAppointmentAt', max },
          )
        }
        uow.write(
          deps.dossiers.updateDeadline(tx, dossierId, {
            appointment_at: input.newAppointmentAt,
            original_appointment_at: old,
            extended_at: now,
            extension_reason: input.reason,
            updated_at: now,
          }),
        )
        uow.write(
          deps.history.append(tx, [
            {
              dossier_id: dossierId,
              action: 'deadline.extended',
              actor: p.userId,
              details: { from: old.toISOString(), to: input.newAppointmentAt.toISOString(), reason: input.reason, form: 'Mẫu 04' },
              at: now,
            },
          ]),
        )
        deps.notices?.queue(uow, d, 'apology', {
          sequence: 1,
          data: {
            procedureName: (await deps.versions.get(deps.db, d.procedure_version_id)).metadata.name,
            newAppointmentAt: input.newAppointmentAt.toISOString(),
            previousAppointmentAt: old.toISOString(),
            reason: input.reason,
          },
          now,
        })
        // The deadline moved: its due-soon and overdue alarms move with it.
        uow.write(
          deps.outbox.enqueue(
            tx,
            deps.watch.reconcile(uow, { ...d, appointment_at: input.newAppointmentAt }, handling, now, locked.liveAlarms),
          ),
        )
        return uow.commit({
          dossierId,
          appointmentAt: input.newAppointmentAt,
          previousAppointmentAt: old,
          extendedAt: now,
          reason: input.reason,
        })
      })
    },
  }
}
export type ExtensionService = ReturnType<typeof createExtensionService>
