import type { Job, Queue } from 'bullmq'
import type { Db } from '../db/knex.ts'
import { outboxJobId, type OutboxRepository } from '../outbox/outbox.repository.ts'

/**
 * Postgres knows which portal status events were never acknowledged; Redis may have lost their jobs
 * (FLUSHALL, a lost instance) or given up on them after their retries. Queues each one again under
 * its own job id (a job still in Redis is left alone) and retries the given-up ones. Runs at start
 * and every minute, with the timer re-queue.
 */
export async function requeueUnacknowledgedEvents(deps: {
  db: Db
  queue: Queue
  outbox: OutboxRepository
  limit?: number
  /**
   * Only events published before this instant: the periodic pass leaves alone the events just
   * published, whose jobs are still in Redis and being delivered, so that it does not re-add the
   * whole in-flight stream every minute. Absent (at start, when Redis comes back): every one.
   */
  publishedBefore?: Date
}): Promise<{ queued: number; revived: number }> {
  const rows = await deps.outbox.unacknowledged(deps.db, deps.limit ?? 1000, deps.publishedBefore)
  if (rows.length === 0) return { queued: 0, revived: 0 }
  await deps.queue.addBulk(rows.map((row) => ({ name: row.topic, data: row.payload, opts: { jobId: outboxJobId(row) } })))
  const pending = new Set(rows.map(outboxJobId))
  let revived = 0
  const failed: Job[] = await deps.queue.getFailed(0, 999)
  for (const job of failed) {
    if (job.id && pending.has(job.id)) {
      await job.retry('failed')
      revived++
    }
  }
  return { queued: rows.length, revived }
}
