import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { TimerService } from '../timers/timer.service.ts'
import { QUEUE } from './queues.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Fires BPMN timers when their delayed job comes due; a job that arrives early waits again. */
export function startTimerWorker(deps: { connection: ConnectionOptions; prefix: string; timers: TimerService; clock: Clock; log: Logger; concurrency?: number }) {
  return new Worker(QUEUE.timers, async (job, token) => {
    const { timerId, dueAt } = (job.data ?? {}) as { timerId?: unknown; dueAt?: unknown }
    if (typeof timerId !== 'string' || !UUID.test(timerId)) throw new UnrecoverableError(`invalid timer job ${job.id}`)
    const outcome = await deps.timers.fire(timerId)
    if (outcome === 'not-due') {
      const due = typeof dueAt === 'string' ? Date.parse(dueAt) : NaN
      await job.moveToDelayed(Number.isNaN(due) ? deps.clock.now().getTime() + 1000 : Math.max(due, deps.clock.now().getTime() + 10), token)
      throw new DelayedError()
    }
    return outcome
  }, { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 20 })
}
