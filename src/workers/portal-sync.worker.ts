import { Worker, UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { NationalPortal } from '../handoffs/national-portal.ts'
import { outboxIdOfJob, type OutboxRepository } from '../outbox/outbox.repository.ts'
import { QUEUE } from '../outbox/queues.ts'

/** Validates a queue payload: jobs come from Redis, which is outside our trust boundary. */
export function parseStatusEvent(job: Pick<Job, 'id' | 'data'>) {
  const d = job.data as Record<string, unknown>
  if (typeof d?.dossierId !== 'string' || typeof d.code !== 'string' || typeof d.nationalStatus !== 'number' || typeof d.at !== 'string') {
    throw new UnrecoverableError(`invalid dossier event payload in job ${job.id}`)
  }
  return { eventId: String(job.id), dossierId: d.dossierId, code: d.code, nationalStatus: d.nationalStatus, at: d.at }
}

/**
 * Pushes every status change to the national portal, retried with back-off until acknowledged.
 * The acknowledgement is recorded in Postgres (the outbox row stops being pending); an event
 * already acknowledged (a re-queued copy) is not sent again.
 */
export function startPortalSyncWorker(deps: {
  connection: ConnectionOptions
  prefix: string
  portal: NationalPortal
  db: Db
  outbox: OutboxRepository
  clock: Clock
  log: Logger
}) {
  return new Worker(
    QUEUE.dossierEvents,
    async (job) => {
      const event = parseStatusEvent(job)
      const outboxId = outboxIdOfJob(event.eventId)
      if (outboxId === null) throw new UnrecoverableError(`dossier event job ${job.id} has no outbox id`)
      if (await deps.outbox.isAcknowledged(deps.db, outboxId)) return { duplicate: true }
      const { receipt } = await deps.portal.pushStatus(event)
      await deps.outbox.acknowledge(deps.db, { id: outboxId, ...event, receipt, at: deps.clock.now() })
      deps.log.debug({ dossier: event.code, status: event.nationalStatus, receipt }, 'status synced to national portal')
      return { receipt }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 10 },
  )
}
