import type { Queryable, Tx } from '../db/knex.ts'
import { read, write } from '../db/query.ts'
import { UnitOfWork } from '../db/unit-of-work.ts'

/** Messages for Redis or other systems, written in the same transaction as the step that caused them. */
export interface OutboxMessage {
  topic: string
  payload: Record<string, unknown>
  availableAt?: Date
}

export interface OutboxRow {
  id: number
  topic: string
  payload: Record<string, unknown>
  available_at: Date
  attempts: number
}

/**
 * Status events for the National Public Service Portal: unlike queue-internal messages they stay
 * pending (`acknowledged_at` null) after Redis accepted their job, until the portal acknowledges them.
 */
export const PORTAL_TOPIC = 'dossier.status-changed'

/** The BullMQ job id of a row: its own (`payload.jobId`) or one derived from the row id, so a re-queue never duplicates. */
export const outboxJobId = (row: Pick<OutboxRow, 'id' | 'payload'>) =>
  typeof row.payload.jobId === 'string' ? row.payload.jobId : `outbox-${row.id}`

/** The outbox row id inside a derived job id (`outbox-<id>`), or null. */
export function outboxIdOfJob(jobId: string): number | null {
  const m = /^outbox-(\d{1,15})$/.exec(jobId)
  return m ? Number(m[1]) : null
}

export function createOutboxRepository() {
  return {
    /** Insert, and wake the relay (NOTIFY is delivered at commit), in one statement; null when there is nothing to send. */
    enqueue(q: Queryable, messages: OutboxMessage[]) {
      if (messages.length === 0) return null
      const insert = q('outbox')
        .insert(
          messages.map((m) => ({
            topic: m.topic,
            payload: JSON.stringify(m.payload),
            ...(m.availableAt ? { available_at: m.availableAt } : {}),
          })),
        )
        .toSQL()
      return write(q.raw(`WITH ins AS (${insert.sql}) SELECT pg_notify('outbox', '')`, insert.bindings))
    },
    /** Claims a batch of unpublished messages; SKIP LOCKED lets several relays run side by side. */
    async claimBatch(tx: Tx, limit: number): Promise<OutboxRow[]> {
      // In a unit of work (text protocol): the transaction's BEGIN goes in the same message.
      const uow = new UnitOfWork(tx)
      const claimed = uow.read(
        read<OutboxRow>(
          tx('outbox')
            .whereNull('published_at')
            .orderBy('id')
            .limit(limit)
            .forUpdate()
            .skipLocked()
            .select('id', 'topic', 'payload', 'available_at', 'attempts'),
        ),
      )
      await uow.flush()
      return claimed.rows
    },
    /**
     * Ends a claim: marks what went out as published and the run that failed (if any) with its error,
     * and commits, in one message. The caller runs nothing after it in this transaction.
     */
    async finishBatch(tx: Tx, outcome: { published: number[]; failed: { id: number; error: string } | null }, now: Date): Promise<void> {
      const { published, failed } = outcome
      await new UnitOfWork(tx)
        .write(
          write(
            failed
              ? tx('outbox')
                  .where({ id: failed.id })
                  .update({ attempts: tx.raw('attempts + 1'), last_error: failed.error.slice(0, 1000) })
              : null,
          ),
        )
        .write(write(published.length ? tx('outbox').whereIn('id', published).update({ published_at: now }) : null))
        .commit(undefined)
    },
    /** Portal events already handed to Redis and not acknowledged yet, oldest first. */
    /** Portal events published (before `publishedBefore`, when given) that the portal has not acknowledged. */
    async unacknowledged(q: Queryable, limit: number, publishedBefore?: Date): Promise<OutboxRow[]> {
      const rows = q<OutboxRow>('outbox').where({ topic: PORTAL_TOPIC }).whereNull('acknowledged_at').whereNotNull('published_at')
      if (publishedBefore) void rows.where('published_at', '<', publishedBefore)
      return rows.orderBy('id').limit(limit).select('id', 'topic', 'payload', 'available_at', 'attempts')
    },
    async isAcknowledged(q: Queryable, id: number): Promise<boolean> {
      const row = await q('outbox').where({ id }).whereNotNull('acknowledged_at').first('id')
      return row !== undefined
    },
    /** Records the portal's receipt (kept for the synced-to-portal indicator) and ends the row's pending state. */
    async pendingCount(q: Queryable): Promise<number> {
      const r = await q('outbox').whereNull('published_at').count<{ count: string }[]>('* as count')
      return Number(r[0]?.count ?? 0)
    },
  }
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>
