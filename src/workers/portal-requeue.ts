import type { Queue } from 'bullmq'
import type { Db } from '../db/knex.ts'
import { portalAttemptJobId, portalAttemptMessage, type PortalEventRepository } from '../handoffs/portal-event.repository.ts'

/**
 * Postgres knows which portal status events were never acknowledged and when each one's attempt is
 * due; Redis may have lost their jobs (FLUSHALL, a lost instance), hold them delayed on a clock that is
 * not ours, or have finished them (an attempt held back by an earlier event). Each due event gets its
 * attempt's job: added when missing, promoted when delayed, added again when finished. An event whose
 * retries ran out (an incident) waits for a person, and one held back by an earlier event of its
 * dossier waits for it. Runs at start and every minute, with the timer re-queue; tests call it after
 * moving the clock.
 */
export async function requeueUnacknowledgedEvents(deps: {
  db: Db
  queue: Queue
  events: PortalEventRepository
  now: Date
  limit?: number
  /**
   * Only events published before this instant: the periodic pass leaves alone the events just
   * published, whose jobs are still in Redis and being delivered, so that it does not re-add the
   * whole in-flight stream every minute. Absent (at start, when Redis comes back): every one.
   */
  publishedBefore?: Date
}): Promise<{ queued: number; revived: number }> {
  const rows = await deps.events.due(deps.db, {
    now: deps.now,
    limit: deps.limit ?? 1000,
    ...(deps.publishedBefore ? { publishedBefore: deps.publishedBefore } : {}),
  })
  let queued = 0
  let revived = 0
  for (const row of rows) {
    const jobId = portalAttemptJobId(row.id, row.delivery_attempts)
    const message = portalAttemptMessage(row, jobId, deps.now)
    const job = await deps.queue.getJob(jobId)
    if (job) {
      const state = await job.getState()
      if (state === 'delayed') {
        await job.promote()
        revived++
      }
      if (state !== 'completed' && state !== 'failed') continue
      await job.remove()
      revived++
    } else queued++
    await deps.queue.add(message.topic, message.payload, { jobId })
  }
  return { queued, revived }
}
