import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { DeadlineWatch } from '../deadlines/deadline-watch.ts'
import type { TimerService } from '../timers/timer.service.ts'
import { QUEUE } from '../outbox/queues.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Fires what comes due on the timers queue: BPMN timers (`timer.scheduled`) and deadline alarms
 * (`deadline.scheduled`). Postgres decides: a job that arrives early goes back to waiting, one whose
 * row is already fired or cancelled does nothing.
 */
export function startTimerWorker(deps: {
  connection: ConnectionOptions
  prefix: string
  timers: TimerService
  watch: DeadlineWatch
  clock: Clock
  log: Logger
  concurrency?: number
  lockMs?: number
}) {
  return new Worker(
    QUEUE.timers,
    async (job, token) => {
      const data = (job.data ?? {}) as { timerId?: unknown; alarmId?: unknown; dueAt?: unknown }
      let outcome: string
      if (job.name === 'timer.scheduled') {
        if (typeof data.timerId !== 'string' || !UUID.test(data.timerId)) throw new UnrecoverableError(`invalid timer job ${job.id}`)
        outcome = await deps.timers.fire(data.timerId)
      } else if (job.name === 'deadline.scheduled') {
        if (typeof data.alarmId !== 'string' || !UUID.test(data.alarmId)) throw new UnrecoverableError(`invalid deadline job ${job.id}`)
        outcome = await deps.watch.fire(data.alarmId)
      } else {
        throw new UnrecoverableError(`unknown job ${job.name} on the timers queue`)
      }
      if (outcome === 'not-due') {
        const due = typeof data.dueAt === 'string' ? Date.parse(data.dueAt) : NaN
        await job.moveToDelayed(
          Number.isNaN(due) ? deps.clock.now().getTime() + 1000 : Math.max(due, deps.clock.now().getTime() + 10),
          token,
        )
        throw new DelayedError()
      }
      return outcome
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency ?? 20,
      // A job held by a crashed worker goes back to waiting once its lock lapses; it may stall many times
      // (each firing is idempotent), it must never be given up on.
      lockDuration: deps.lockMs ?? 30_000,
      stalledInterval: deps.lockMs ?? 30_000,
      maxStalledCount: 1000,
    },
  )
}
