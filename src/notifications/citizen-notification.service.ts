import type { Principal } from '../auth/principal.ts'
import { authorize, canReadDossier, dossierResource } from '../auth/policy.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
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
  return {
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
        uow.write(deps.repo.reopen(tx, id, DELIVERY_RETRIES, now))
        uow.write(
          deps.outbox.enqueue(tx, [
            {
              topic: CITIZEN_NOTIFICATION_TOPIC,
              payload: { notificationId: id, attempt: row.attempts, jobId: deliveryJobId(id, row.attempts) },
              availableAt: now,
            },
          ]),
        )
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
