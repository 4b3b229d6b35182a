import { Worker, UnrecoverableError, type ConnectionOptions, type Queue } from 'bullmq'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import { QUEUE } from '../outbox/queues.ts'
import type { CitizenDelivery } from '../notifications/citizen-delivery.ts'
import { deliveryJobId, type CitizenNotificationRepository, type NotifyChannel } from '../notifications/citizen-notification.repository.ts'

/** Validates a queue payload: jobs come from Redis, outside our trust boundary. */
export function parseDeliveryJob(job: { id?: string; data: unknown }) {
  const d = job.data as Record<string, unknown> | null
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
  if (typeof d?.notificationId !== 'string' || !uuid.test(d.notificationId) || !Number.isInteger(d.attempt) || (d.attempt as number) < 0)
    throw new UnrecoverableError(`invalid citizen notification job ${job.id}`)
  return { id: d.notificationId, attempt: d.attempt as number }
}

/**
 * Sends applicants' notifications, one job per attempt. Retries are not BullMQ's: a failed attempt
 * commits the next one (its time in Postgres, its job in the outbox), so they survive Redis.
 */
export function startCitizenNotificationWorker(deps: {
  connection: ConnectionOptions
  prefix: string
  delivery: CitizenDelivery
  log: Logger
  lockMs: number
}) {
  return new Worker(
    QUEUE.citizenNotifications,
    async (job) => {
      const { id, attempt } = parseDeliveryJob(job)
      const outcome = await deps.delivery.deliver(id, attempt)
      deps.log.debug({ notification: id, attempt, outcome }, 'citizen notification attempt')
      return { outcome }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 5, lockDuration: deps.lockMs, stalledInterval: deps.lockMs },
  )
}

/**
 * Postgres knows every pending notification and when its next attempt is due; Redis may have lost
 * its job, or hold it delayed on a clock that is not ours. Each due row gets its attempt's job: added
 * when missing, promoted when still delayed, added again when a finished job left the row pending
 * (its channel had no adapter then). Runs at start and every minute; tests call it after moving the clock.
 */
export async function queueDueNotifications(deps: {
  db: Db
  repo: CitizenNotificationRepository
  queue: Queue
  channels: NotifyChannel[]
  now: Date
  limit?: number
}): Promise<number> {
  if (!deps.channels.length) return 0
  const rows = await deps.repo.due(deps.db, deps.channels, deps.now, deps.limit ?? 500)
  for (const row of rows) {
    const jobId = deliveryJobId(row.id, row.attempts)
    const data = { notificationId: row.id, attempt: row.attempts, jobId }
    const job = await deps.queue.getJob(jobId)
    if (job) {
      const state = await job.getState()
      if (state === 'delayed') await job.promote()
      if (state !== 'completed' && state !== 'failed') continue
      await job.remove()
    }
    await deps.queue.add('citizen-notification.send', data, { jobId })
  }
  return rows.length
}
