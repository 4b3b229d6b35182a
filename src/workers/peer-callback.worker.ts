import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq'
import type { Logger } from 'pino'
import { QUEUE } from '../outbox/queues.ts'
import type { PeerCallbackService } from '../peers/peer-callback.service.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Calls the sending peer back when a dossier it handed us ended (`peer.callback` jobs). Postgres
 * decides: a callback already sent, or not due, does nothing; a refused one is due again later and
 * the per-minute sweep sends it.
 */
export function startPeerCallbackWorker(deps: {
  connection: ConnectionOptions
  prefix: string
  callbacks: PeerCallbackService
  log: Logger
  lockMs: number
}) {
  return new Worker(
    QUEUE.peerCallbacks,
    async (job) => {
      const data = (job.data ?? {}) as { dossierId?: unknown }
      if (typeof data.dossierId !== 'string' || !UUID.test(data.dossierId))
        throw new UnrecoverableError(`invalid peer callback job ${job.id}`)
      const outcome = await deps.callbacks.deliverForDossier(data.dossierId)
      deps.log.debug({ dossier: data.dossierId, outcome }, 'peer callback attempt')
      return { outcome }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 5, lockDuration: deps.lockMs, stalledInterval: deps.lockMs },
  )
}
