import type { Queryable } from '../db/knex.ts'

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

export function createOutboxRepository() {
  return {
    /** Insert, and wake the relay (NOTIFY is delivered at commit), in one statement; unrun (await it or batch it). */
    enqueue(q: Queryable, messages: OutboxMessage[]) {
      if (messages.length === 0) return null
      const insert = q('outbox').insert(messages.map((m) => ({ topic: m.topic, payload: JSON.stringify(m.payload), ...(m.availableAt ? { available_at: m.availableAt } : {}) }))).toSQL()
      return q.raw(`WITH ins AS (${insert.sql}) SELECT pg_notify('outbox', '')`, insert.bindings as any[])
    },
    /** Claims a batch of unpublished messages; SKIP LOCKED lets several relays run side by side. */
    async claimBatch(q: Queryable, limit: number): Promise<OutboxRow[]> {
      return q<OutboxRow>('outbox').whereNull('published_at').orderBy('id').limit(limit).forUpdate().skipLocked().select('id', 'topic', 'payload', 'available_at', 'attempts')
    },
    async markPublished(q: Queryable, ids: number[], now: Date): Promise<void> {
      if (ids.length) await q('outbox').whereIn('id', ids).update({ published_at: now })
    },
    async markFailed(q: Queryable, id: number, error: string): Promise<void> {
      await q('outbox').where({ id }).update({ attempts: q.raw('attempts + 1'), last_error: error.slice(0, 1000) })
    },
    async pendingCount(q: Queryable): Promise<number> {
      const r = await q('outbox').whereNull('published_at').count<{ count: string }[]>('* as count')
      return Number(r[0]?.count ?? 0)
    },
  }
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>
