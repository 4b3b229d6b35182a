import type { Queryable, Tx } from '../db/knex.ts'
import { read, write } from '../db/query.ts'
import type { CitizenEvent, TemplateData } from './citizen-templates.ts'

/** The outbox topic (and BullMQ job name) of one delivery attempt of a citizen notification. */
export const CITIZEN_NOTIFICATION_TOPIC = 'citizen-notification.send'

export type NotifyChannel = 'email' | 'sms' | 'webhook' | 'none'
export type NotifyState = 'pending' | 'sent' | 'failed' | 'no_address'

export interface CitizenNotificationRow {
  id: string
  dossier_id: string
  agency: string
  event: CitizenEvent
  event_key: string
  channel: NotifyChannel
  address: string | null
  data: TemplateData
  state: NotifyState
  attempts: number
  retries_left: number
  next_attempt_at: Date | null
  last_error: string | null
  message_id: string | null
  sent_at: Date | null
  created_at: Date
  updated_at: Date
}

/** One row to write for an event: its id (the delivery's idempotency key), channel and address. */
export interface PlannedRow {
  id: string
  channel: NotifyChannel
  address: string | null
  state: 'pending' | 'no_address'
}

/** The BullMQ job id of a row's attempt: a new attempt is a new job, a re-queue of the same attempt is not. */
export const deliveryJobId = (id: string, attempt: number) => `cn-${id}-${attempt}`

export function createCitizenNotificationRepository() {
  return {
    /**
     * Inserts the event's rows once (a replayed event hits the unique key and inserts nothing) and,
     * for each row actually inserted and pending, its first delivery job in the outbox: one statement.
     * The relay is woken only when a job was queued (a notice to no address queues none).
     * `appointmentFromDossier`: the template's `appointmentAt` is read from the dossier row as this
     * transaction left it (the step's deadline observer set it just before).
     */
    queueEvent(
      q: Queryable,
      e: {
        dossierId: string
        event: CitizenEvent
        eventKey: string
        data: TemplateData
        appointmentFromDossier: boolean
        rows: PlannedRow[]
        retries: number
        now: Date
      },
    ) {
      if (e.rows.length === 0) return null
      const values = e.rows.map(() => '(?::uuid, ?, ?, ?)').join(', ')
      const bindings = e.rows.flatMap((r) => [r.id, r.channel, r.address, r.state])
      return write(
        q.raw(
          `WITH d AS (SELECT id, agency, appointment_at FROM dossiers WHERE id = ?),
           ins AS (
             INSERT INTO citizen_notifications
               (id, dossier_id, agency, event, event_key, channel, address, data, state, retries_left, next_attempt_at, created_at, updated_at)
             SELECT v.id, d.id, d.agency, ?, ?, v.channel, v.address,
                    CASE WHEN ? THEN ?::jsonb || jsonb_build_object('appointmentAt', d.appointment_at) ELSE ?::jsonb END,
                    v.state, ?, CASE WHEN v.state = 'pending' THEN ?::timestamptz END, ?, ?
             FROM d, (VALUES ${values}) AS v(id, channel, address, state)
             ON CONFLICT (event_key, channel) DO NOTHING
             RETURNING id, state),
           ob AS (
             INSERT INTO outbox (topic, payload, available_at)
             SELECT ?, jsonb_build_object('notificationId', id, 'attempt', 0, 'jobId', 'cn-' || id || '-0'), ?::timestamptz
             FROM ins WHERE state = 'pending'
             RETURNING 1)
           SELECT pg_notify('outbox', '') FROM (SELECT 1 FROM ob LIMIT 1) AS queued`,
          [
            e.dossierId,
            e.event,
            e.eventKey,
            e.appointmentFromDossier,
            JSON.stringify(e.data),
            JSON.stringify(e.data),
            e.retries,
            e.now,
            e.now,
            e.now,
            ...bindings,
            CITIZEN_NOTIFICATION_TOPIC,
            e.now,
          ],
        ),
      )
    },
    forDossier: (q: Queryable, dossierId: string) =>
      read<CitizenNotificationRow>(q('citizen_notifications').where({ dossier_id: dossierId }).orderBy(['created_at', 'event', 'channel'])),
    find: (q: Queryable, id: string) => read<CitizenNotificationRow>(q('citizen_notifications').where({ id })),
    /** The row, locked for a delivery; null when another worker holds it (it is delivering it) or it is gone. */
    lockForDelivery: (tx: Tx, id: string) =>
      read<CitizenNotificationRow>(tx('citizen_notifications').where({ id }).forUpdate().skipLocked()),
    lock: (tx: Tx, id: string) => read<CitizenNotificationRow>(tx('citizen_notifications').where({ id }).forUpdate()),
    markSent: (q: Queryable, id: string, messageId: string, now: Date) =>
      write(
        q('citizen_notifications')
          .where({ id, state: 'pending' })
          .update({
            state: 'sent',
            attempts: q.raw('attempts + 1'),
            message_id: messageId,
            sent_at: now,
            next_attempt_at: null,
            updated_at: now,
          }),
      ),
    /** A failed attempt: retried at `retryAt`, or `failed` (retries exhausted) when it is null. */
    markAttemptFailed: (q: Queryable, id: string, error: string, retryAt: Date | null, now: Date) =>
      write(
        q('citizen_notifications')
          .where({ id, state: 'pending' })
          .update({
            state: retryAt ? 'pending' : 'failed',
            attempts: q.raw('attempts + 1'),
            retries_left: retryAt ? q.raw('retries_left - 1') : 0,
            next_attempt_at: retryAt,
            last_error: error.slice(0, 1000),
            updated_at: now,
          }),
      ),
    /** A failed row put back to pending by an officer, with a fresh set of retries. */
    reopen: (q: Queryable, id: string, retries: number, now: Date) =>
      write(
        q('citizen_notifications')
          .where({ id, state: 'failed' })
          .update({ state: 'pending', retries_left: retries, next_attempt_at: now, updated_at: now }),
      ),
    /** Pending rows of the given channels whose attempt is due, oldest first. */
    due: (q: Queryable, channels: NotifyChannel[], now: Date, limit: number) =>
      read<Pick<CitizenNotificationRow, 'id' | 'attempts' | 'next_attempt_at'>>(
        q('citizen_notifications')
          .where({ state: 'pending' })
          .whereIn('channel', channels)
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .limit(limit)
          .select('id', 'attempts', 'next_attempt_at'),
      ),
  }
}
export type CitizenNotificationRepository = ReturnType<typeof createCitizenNotificationRepository>
