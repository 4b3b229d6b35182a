import { Worker, type ConnectionOptions } from 'bullmq'
import type { Logger } from 'pino'
import { parseDeadlineEvent, type NotificationService } from '../notifications/notification.service.ts'
import { QUEUE } from './queues.ts'

/**
 * Turns deadline events queued on `notifications` into notifications; idempotent per event, so
 * redelivery is harmless. The deadline watch now writes notifications in the transaction that fires
 * the alarm: this worker drains the events that earlier versions queued.
 */
export function startNotificationWorker(deps: { connection: ConnectionOptions; prefix: string; notifications: NotificationService; log: Logger }) {
  return new Worker(QUEUE.notifications, async (job) => {
    const event = parseDeadlineEvent(job.data)
    const written = await deps.notifications.record(event)
    deps.log.debug({ dossier: event.code, kind: event.kind, written }, 'deadline notification')
    return { written }
  }, { connection: deps.connection, prefix: deps.prefix, concurrency: 10 })
}
