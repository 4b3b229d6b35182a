import { Worker, UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq'
import type { Logger } from 'pino'
import type { PortalDelivery } from '../handoffs/portal-delivery.ts'
import { outboxIdOfJob } from '../outbox/outbox.repository.ts'
import { QUEUE } from '../outbox/queues.ts'

/**
 * Validates a queue payload: jobs come from Redis, which is outside our trust boundary. The event id
 * is the job's own for a first attempt, or named by a later attempt's job (`eventId`).
 */
export function parseStatusEvent(job: Pick<Job, 'id' | 'data'>) {
  const d = job.data as Record<string, unknown>
  if (typeof d?.dossierId !== 'string' || typeof d.code !== 'string' || typeof d.nationalStatus !== 'number' || typeof d.at !== 'string') {
    throw new UnrecoverableError(`invalid dossier event payload in job ${job.id}`)
  }
  const eventId = typeof d.eventId === 'string' ? d.eventId : String(job.id)
  return { eventId, dossierId: d.dossierId, code: d.code, nationalStatus: d.nationalStatus, at: d.at }
}

/**
 * Pushes every status change to the national portal, one attempt per job; Postgres decides what is
 * sent (src/handoffs/portal-delivery.ts): an event already acknowledged, held back by an earlier one
 * of its dossier, or not due is not sent; a refused one is retried on the configured cycle, then
 * becomes an incident.
 */
export function startPortalSyncWorker(deps: { connection: ConnectionOptions; prefix: string; delivery: PortalDelivery; log: Logger }) {
  return new Worker(
    QUEUE.dossierEvents,
    async (job) => {
      const event = parseStatusEvent(job)
      const outboxId = outboxIdOfJob(event.eventId)
      if (outboxId === null) throw new UnrecoverableError(`dossier event job ${job.id} has no outbox id`)
      const outcome = await deps.delivery.deliver(outboxId)
      deps.log.debug({ dossier: event.code, status: event.nationalStatus, outcome }, 'portal sync attempt')
      return { outcome, duplicate: outcome === 'duplicate' }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 10 },
  )
}
