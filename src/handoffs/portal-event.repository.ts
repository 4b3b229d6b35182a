import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'
import { PORTAL_TOPIC, type OutboxMessage } from '../outbox/outbox.repository.ts'

/**
 * The outbox topic of a later attempt at a portal status event: a job on the portal queue carrying the
 * event (its own row stays the event, pending until acknowledged); its job id names the attempt.
 */
export const PORTAL_RESEND_TOPIC = 'dossier.status-resend'

/** A portal status event (an outbox row of the portal topic) with its delivery fields. */
export interface PortalEventRow {
  id: number
  payload: { dossierId: string; code: string; status?: string; nationalStatus: number; at: string } & Record<string, unknown>
  published_at: Date | null
  acknowledged_at: Date | null
  delivery_attempts: number
  retries_left: number | null
  next_attempt_at: Date | null
  delivery_error: string | null
  /** null while being delivered; `incident` once its retries ran out; `closed` when its incident was closed by hand. */
  delivery_state: 'incident' | 'closed' | null
}

/** The event id the portal sees: the one of the row's first job, whatever the attempt (its idempotency key). */
export const portalEventId = (id: number) => `outbox-${id}`

/** The BullMQ job id of an attempt: the first is the relay's own, each later one its own id. */
export const portalAttemptJobId = (id: number, attempts: number) =>
  attempts === 0 ? portalEventId(id) : `${portalEventId(id)}-${attempts}`

/** The queue message of an attempt at an event (the event's fields, its event id and the attempt's job id). */
export function portalAttemptMessage(row: Pick<PortalEventRow, 'id' | 'payload'>, jobId: string, at: Date): OutboxMessage {
  return { topic: PORTAL_RESEND_TOPIC, payload: { ...row.payload, eventId: portalEventId(row.id), jobId }, availableAt: at }
}

/**
 * An earlier event of the same dossier that the portal has not acknowledged (and no one closed by
 * hand) holds a later one back: the portal receives a dossier's statuses in their order.
 */
const NOT_BLOCKED = `NOT EXISTS (
  SELECT 1 FROM outbox e
   WHERE e.topic = '${PORTAL_TOPIC}' AND e.acknowledged_at IS NULL AND e.id < o.id
     AND e.delivery_state IS DISTINCT FROM 'closed' AND e.payload->>'dossierId' = o.payload->>'dossierId')`

export function createPortalEventRepository() {
  return {
    find: (q: Queryable, id: number) => read<PortalEventRow>(q('outbox').where({ id, topic: PORTAL_TOPIC }).select('*')),
    lock: (q: Queryable, id: number) => read<PortalEventRow>(q('outbox').where({ id, topic: PORTAL_TOPIC }).forUpdate().select('*')),
    /**
     * Takes an attempt: the event is unacknowledged, being delivered, due, and no earlier event of its
     * dossier waits; the attempt holds it until `leaseUntil` (a second copy of the job does not send
     * it meanwhile). Null when it may not be sent now.
     */
    claim: (q: Queryable, id: number, now: Date, leaseUntil: Date) =>
      read<PortalEventRow>(
        q.raw(
          `UPDATE outbox o SET delivery_attempts = delivery_attempts + 1, next_attempt_at = :leaseUntil
            WHERE o.id = :id AND o.topic = '${PORTAL_TOPIC}' AND o.acknowledged_at IS NULL AND o.delivery_state IS NULL
              AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now) AND ${NOT_BLOCKED}
           RETURNING o.*`,
          { id, now, leaseUntil },
        ),
      ),
    /** Is an earlier event of the same dossier still waiting for the portal? */
    blocked: (q: Queryable, id: number) =>
      read<{ id: number }>(q.raw(`SELECT o.id FROM outbox o WHERE o.id = :id AND NOT ${NOT_BLOCKED}`, { id })),
    /** A failed attempt: retried at `retryAt`, or, with none left (`retryAt` null), an incident. */
    failed: (q: Queryable, id: number, f: { retries: number; retryAt: Date | null; error: string }) =>
      write(
        q('outbox')
          .where({ id, topic: PORTAL_TOPIC })
          .whereNull('acknowledged_at')
          .update({
            retries_left: f.retries,
            next_attempt_at: f.retryAt,
            delivery_error: f.error.slice(0, 2000),
            delivery_state: f.retryAt ? null : 'incident',
          }),
      ),
    /** An admin's retry: delivered again from now with a fresh set of retries. */
    reopen: (q: Queryable, id: number, retries: number, now: Date) =>
      write(
        q('outbox')
          .where({ id, topic: PORTAL_TOPIC, delivery_state: 'incident' })
          .update({ delivery_state: null, retries_left: retries, next_attempt_at: now }),
      ),
    /** Its incident closed by hand: never sent, and it no longer holds back the dossier's later events. */
    close: (q: Queryable, id: number) =>
      write(q('outbox').where({ id, topic: PORTAL_TOPIC, delivery_state: 'incident' }).update({ delivery_state: 'closed' })),
    /**
     * The portal acknowledged event `ack.id`, in one statement (autocommit): its receipt logged, the event
     * marked, and the dossier's next event waiting behind it (see `nextOfDossier`) given its next attempt
     * at once, as `portalAttemptMessage` would write it. Returns the id of that next event, if any.
     */
    acknowledgeAndWakeNext: (
      q: Queryable,
      ack: { id: number; eventId: string; dossierId: string; code: string; nationalStatus: number; receipt: string; at: Date },
    ) =>
      read<{ next_id: number }>(
        q.raw(
          `WITH log AS (
             INSERT INTO portal_sync_log (event_id, dossier_id, dossier_code, national_status, receipt, acked_at)
             VALUES (:eventId, :dossierId, :code, :nationalStatus, :receipt, :at) ON CONFLICT (event_id) DO NOTHING),
           acked AS (UPDATE outbox SET acknowledged_at = :at WHERE id = :id AND acknowledged_at IS NULL RETURNING id),
           next AS (
             SELECT o.id, o.payload, o.delivery_attempts FROM outbox o, acked
              WHERE o.topic = '${PORTAL_TOPIC}' AND o.acknowledged_at IS NULL AND o.delivery_state IS NULL
                AND o.published_at IS NOT NULL AND o.id > :id AND o.payload->>'dossierId' = :dossierId
              ORDER BY o.id LIMIT 1),
           woken AS (
             INSERT INTO outbox (topic, payload, available_at)
             SELECT '${PORTAL_RESEND_TOPIC}',
                    n.payload || jsonb_build_object('eventId', 'outbox-' || n.id, 'jobId',
                      'outbox-' || n.id || CASE WHEN n.delivery_attempts = 0 THEN '' ELSE '-' || n.delivery_attempts END || '-after-' || :id),
                    :at
               FROM next n
             RETURNING id)
           SELECT n.id AS next_id, pg_notify('outbox', '') FROM next n, woken`,
          { ...ack },
        ),
      ),
    /** The dossier's next event waiting behind `id` that has its first job already (the relay published it). */
    nextOfDossier: (q: Queryable, id: number, dossierId: string) =>
      read<PortalEventRow>(
        q('outbox')
          .where({ topic: PORTAL_TOPIC })
          .whereNull('acknowledged_at')
          .whereNull('delivery_state')
          .whereNotNull('published_at')
          .where('id', '>', id)
          .whereRaw(`payload->>'dossierId' = ?`, [dossierId])
          .orderBy('id')
          .limit(1)
          .select('*'),
      ),
    /**
     * Events to put (back) on the queue: published (before `publishedBefore`, when given), not
     * acknowledged, being delivered, due by `now`, not held back by an earlier one; oldest first.
     */
    due: (q: Queryable, a: { now: Date; limit: number; publishedBefore?: Date }) =>
      read<PortalEventRow>(
        q.raw(
          `SELECT o.* FROM outbox o
            WHERE o.topic = '${PORTAL_TOPIC}' AND o.acknowledged_at IS NULL AND o.published_at IS NOT NULL
              AND o.delivery_state IS NULL AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now)
              AND (CAST(:publishedBefore AS timestamptz) IS NULL OR o.published_at < :publishedBefore)
              AND ${NOT_BLOCKED}
            ORDER BY o.id LIMIT :limit`,
          { now: a.now, limit: a.limit, publishedBefore: a.publishedBefore ?? null },
        ),
      ),
  }
}
export type PortalEventRepository = ReturnType<typeof createPortalEventRepository>
