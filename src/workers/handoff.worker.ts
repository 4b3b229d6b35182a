import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { HandoffService } from '../handoffs/handoff.service.ts'
import { QUEUE } from '../outbox/queues.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Runs adapter handoffs (`handoff.dispatch` jobs): one attempt each, Postgres deciding. A job that
 * arrives before its attempt is due goes back to waiting; one whose handoff is answered, cancelled or
 * in an incident does nothing. A worker killed mid-job leaves the handoff pending: the job stalls and
 * runs again, with the same idempotency key.
 */
export function startHandoffWorker(deps: {
  connection: ConnectionOptions
  prefix: string
  handoffs: HandoffService
  clock: Clock
  log: Logger
  /** Attempts run at once. An attempt mostly waits on the other system (no connection held meanwhile): far more than the cores. */
  concurrency?: number
  lockMs?: number
}) {
  return new Worker(
    QUEUE.handoffs,
    async (job, token) => {
      const data = (job.data ?? {}) as { handoffId?: unknown; dueAt?: unknown }
      if (typeof data.handoffId !== 'string' || !UUID.test(data.handoffId)) throw new UnrecoverableError(`invalid handoff job ${job.id}`)
      const outcome = await deps.handoffs.dispatch(data.handoffId)
      if (outcome === 'not-due') {
        const due = typeof data.dueAt === 'string' ? Date.parse(data.dueAt) : NaN
        const now = deps.clock.now().getTime()
        await job.moveToDelayed(Number.isNaN(due) ? now + 1000 : Math.max(due, now + 10), token)
        throw new DelayedError()
      }
      return outcome
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency ?? 200,
      lockDuration: deps.lockMs ?? 30_000,
      stalledInterval: deps.lockMs ?? 30_000,
      maxStalledCount: 1000,
    },
  )
}
