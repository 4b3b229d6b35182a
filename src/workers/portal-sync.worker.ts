import { Worker, UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq'
import type { Logger } from 'pino'
import type { NationalPortal } from '../handoffs/national-portal.ts'
import { QUEUE } from './queues.ts'

/** Validates a queue payload: jobs come from Redis, which is outside our trust boundary. */
export function parseStatusEvent(job: Pick<Job, 'id' | 'data'>) {
  const d = job.data as Record<string, unknown>
  if (typeof d?.dossierId !== 'string' || typeof d.code !== 'string' || typeof d.nationalStatus !== 'number' || typeof d.at !== 'string') {
    throw new UnrecoverableError(`invalid dossier event payload in job ${job.id}`)
  }
  return { eventId: String(job.id), dossierId: d.dossierId, code: d.code, nationalStatus: d.nationalStatus, at: d.at }
}

/** Pushes every status change to the national portal, retried with back-off until acknowledged. */
export function startPortalSyncWorker(deps: { connection: ConnectionOptions; prefix: string; portal: NationalPortal; log: Logger }) {
  return new Worker(QUEUE.dossierEvents, async (job) => {
    const event = parseStatusEvent(job)
    const { receipt } = await deps.portal.pushStatus(event)
    deps.log.debug({ dossier: event.code, status: event.nationalStatus, receipt }, 'status synced to national portal')
    return { receipt }
  }, { connection: deps.connection, prefix: deps.prefix, concurrency: 10 })
}
