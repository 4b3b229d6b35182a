import type { Principal } from '../auth/principal.ts'
import { authorize, canReadDossier, dossierResource } from '../auth/policy.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction, type UnitOfWork } from '../db/unit-of-work.ts'
import type { OutgoingIncidentSource } from '../handoffs/incident.service.ts'
import { AppError } from '../errors.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import type { DossierRepository } from '../records/dossier.repository.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import { DELIVERY_RETRIES } from './citizen-notices.ts'
import {
  CITIZEN_NOTIFICATION_TOPIC,
  deliveryJobId,
  type CitizenNotificationRepository,
  type CitizenNotificationRow,
} from './citizen-notification.repository.ts'

/** An address as shown back: enough to recognise it, not to harvest it (ng***@example.com, ******4567). */
export function maskAddress(channel: string, address: string | null): string | null {
  if (!address) return null
  if (channel === 'email') {
    const at = address.lastIndexOf('@')
    return at > 0 ? `${address.slice(0, Math.min(2, at))}***${address.slice(at)}` : '***'
  }
  if (channel === 'sms') return `${'*'.repeat(Math.max(0, address.length - 3))}${address.slice(-3)}`
  return address
}

/** What the applicant was told, for the dossier's readers; a failed message put back on its way by an officer. */
export function createCitizenNotificationService(deps: {
  db: Db
  clock: Clock
  repo: CitizenNotificationRepository
  dossiers: DossierRepository
  history: HistoryRepository
  outbox: OutboxRepository
}) {
  async function dossierOf(p: Principal, dossierId: string) {
    const d = await deps.dossiers.find(deps.db, dossierId).one()
    if (!d || !canReadDossier(p, d)) throw new AppError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${dossierId}`)
    return d
  }
  /** A failed row back to pending with a fresh set of retries, its next attempt queued at once. */
  function reopen(uow: UnitOfWork, row: CitizenNotificationRow, now: Date) {
    uow.write(deps.repo.reopen(uow.tx, row.id, DELIVERY_RETRIES, now))
    uow.write(
      deps.outbox.enqueue(uow.tx, [
        {
          topic: CITIZEN_NOTIFICATION_TOPIC,
          payload: { notificationId: row.id, attempt: row.attempts, jobId: deliveryJobId(row.id, row.attempts) },
          availableAt: now,
        },
      ]),
    )
  }
  return {
    /**
     * The incidents of notifications that finally failed (`failedNotification`): a retry puts the
     * notification back on its way (its delivery then closes the incident); closing one by hand leaves
     * the notification failed.
     */
    incidentSource: {
      async retry(uow: UnitOfWork, incident: { source_id: string }, now: Date) {
        const row = uow.read(deps.repo.lock(uow.tx, incident.source_id))
        await uow.flush()
        const n = row.one()
        if (!n || n.state !== 'failed')
          throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Thông báo không còn ở trạng thái gửi không thành công', {
            state: n?.state ?? null,
          })
        reopen(uow, n, now)
        return { notificationId: n.id, channel: n.channel, event: n.event }
      },
    } satisfies OutgoingIncidentSource,

    async list(p: Principal, dossierId: string): Promise<CitizenNotificationRow[]> {
      const d = await dossierOf(p, dossierId)
      authorize('citizenNotification.read', p, dossierResource(d))
      return deps.repo.forDossier(deps.db, d.id).rows()
    },

    async retry(p: Principal, id: string): Promise<CitizenNotificationRow> {
      return transaction(deps.db, async (uow) => {
        const tx = uow.tx
        const row = await deps.repo.lock(tx, id).one()
        const d = row ? await deps.dossiers.find(tx, row.dossier_id).one() : null
        if (!row || !d || !canReadDossier(p, d)) throw new AppError('NOTIFICATION_NOT_FOUND', `Không tìm thấy thông báo ${id}`)
        authorize('citizenNotification.retry', p, dossierResource(d))
        if (row.state !== 'failed')
          throw new AppError('NOTIFICATION_NOT_RETRYABLE', 'Chỉ gửi lại được thông báo đã gửi không thành công', { state: row.state })
        const now = deps.clock.now()
        reopen(uow, row, now)
        uow.write(
          deps.history.append(tx, [
            {
              dossier_id: row.dossier_id,
              action: 'citizen_notification.retried',
              actor: p.userId,
              details: { notificationId: id, channel: row.channel, event: row.event },
              at: now,
            },
          ]),
        )
        return uow.commit({ ...row, state: 'pending' as const, retries_left: DELIVERY_RETRIES, next_attempt_at: now, updated_at: now })
      })
    },
  }
}
export type CitizenNotificationService = ReturnType<typeof createCitizenNotificationService>
