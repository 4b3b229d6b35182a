import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db, Tx } from '../db/knex.ts'
import type { IncidentRepository } from '../handoffs/incident.repository.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { ChannelAdapters } from './channels.ts'
import { retryDelayMs, DELIVERY_RETRIES } from './citizen-notices.ts'
import { CITIZEN_NOTIFICATION_TOPIC, deliveryJobId, type CitizenNotificationRepository } from './citizen-notification.repository.ts'
import { renderCitizenMessage, TemplateDataMissing } from './citizen-templates.ts'
import { maskAddress } from './citizen-notification.service.ts'

export type DeliveryOutcome = 'sent' | 'retry' | 'failed' | 'stale' | 'busy' | 'unconfigured'

/**
 * One delivery attempt of one row, exactly once per row: the row is locked for the attempt (a second
 * worker skips it), its state and attempt number checked (a row already sent, or an attempt already
 * made, is not sent again), the message sent, and the outcome committed with the row. A process that
 * dies after the send and before the commit leaves the row pending: the attempt is made again, with
 * the same Message-ID / idempotency key (at least once at that one point, docs/notifications.md).
 */
export function createCitizenDelivery(deps: {
  db: Db
  repo: CitizenNotificationRepository
  history: HistoryRepository
  outbox: OutboxRepository
  /** A notification that finally failed opens an incident (`failedNotification`); its delivery closes it. */
  incidents: IncidentRepository
  adapters: ChannelAdapters
  clock: Clock
  log: Logger
  publicBaseUrl: string
  /** Called after the send and before the commit (tests stop a worker there). */
  afterSend?: (rowId: string) => Promise<void>
}) {
  const warned = new Set<string>()
  return {
    async deliver(id: string, attempt: number): Promise<DeliveryOutcome> {
      return deps.db.transaction(async (tx) => {
        const row = await deps.repo.lockForDelivery(tx, id).one()
        if (!row) return 'busy'
        if (row.state !== 'pending' || row.attempts !== attempt) return 'stale'
        const adapter = deps.adapters[row.channel]
        if (!adapter) {
          if (!warned.has(row.channel)) {
            warned.add(row.channel)
            deps.log.warn(
              { channel: row.channel },
              'no adapter configured for this notification channel (SMTP_URL / SMS_GATEWAY_URL): its notifications stay pending, nothing is sent',
            )
          }
          return 'unconfigured'
        }
        const now = deps.clock.now()
        let message
        try {
          message = renderCitizenMessage(row.event, row.data, { publicBaseUrl: deps.publicBaseUrl })
        } catch (err) {
          if (!(err instanceof TemplateDataMissing)) throw err
          // A template without its data never goes out: failed at once, for an officer to see.
          await deps.repo.markAttemptFailed(tx, id, err.message, null, now)
          await failedLine(tx, row, err.message, now)
          return 'failed'
        }
        try {
          await adapter.send({ row, message })
        } catch (err) {
          const error = (err as Error).message || String(err)
          const retryAt = row.retries_left > 0 ? new Date(now.getTime() + retryDelayMs(DELIVERY_RETRIES - row.retries_left)) : null
          await deps.repo.markAttemptFailed(tx, id, error, retryAt, now)
          if (retryAt) {
            await deps.outbox.enqueue(tx, [
              {
                topic: CITIZEN_NOTIFICATION_TOPIC,
                payload: { notificationId: id, attempt: row.attempts + 1, jobId: deliveryJobId(id, row.attempts + 1) },
                availableAt: retryAt,
              },
            ])
            deps.log.info({ notification: id, channel: row.channel, error, retryAt }, 'citizen notification not delivered, will retry')
            return 'retry'
          }
          await failedLine(tx, row, error, now)
          deps.log.warn({ notification: id, channel: row.channel, error }, 'citizen notification failed after its retries')
          return 'failed'
        }
        await deps.afterSend?.(id)
        await deps.repo.markSent(tx, id, adapter.messageId(row), now)
        await deps.incidents.resolveForSource(tx, 'citizenNotification', id, 'notification delivered', now)
        return 'sent'
      })
    },
  }

  /** The history line of a notification that finally failed, and its incident (none when one is open already). */
  async function failedLine(
    tx: Tx,
    row: { id: string; dossier_id: string; channel: string; event: string; address: string | null },
    error: string,
    at: Date,
  ) {
    await deps.incidents.openOutgoing(
      tx,
      {
        id: randomUUID(),
        type: 'failedNotification',
        source: 'citizenNotification',
        sourceId: row.id,
        dossierId: row.dossier_id,
        message: error,
        details: { notificationId: row.id, channel: row.channel, event: row.event, recipient: maskAddress(row.channel, row.address) },
      },
      at,
    )
    await deps.history.append(tx, [
      {
        dossier_id: row.dossier_id,
        action: 'citizen_notification.failed',
        actor: 'system',
        details: { notificationId: row.id, channel: row.channel, event: row.event, error: error.slice(0, 500) },
        at,
      },
    ])
  }
}
export type CitizenDelivery = ReturnType<typeof createCitizenDelivery>
