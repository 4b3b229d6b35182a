import type { Job, Queue } from 'bullmq'
import type { AlarmRepository } from '../records/alarm.repository.ts'
import type { DeadlineWatch } from '../deadlines/deadline-watch.ts'
import type { Db } from '../db/knex.ts'
import type { TimerRepository } from '../records/timer.repository.ts'
import type { TimerService } from '../timers/timer.service.ts'

/**
 * Postgres holds every pending BPMN timer and deadline alarm; Redis may not (FLUSHALL, a lost
 * instance, a job given up after its retries). Queues a job for every pending timer and every
 * pending alarm coming due within the alarm horizon (existing job ids are left alone) and retries
 * failed jobs whose row is still pending. Runs at start and every minute.
 */
export async function requeueTimers(deps: {
  db: Db
  queue: Queue
  timers: TimerService
  watch: DeadlineWatch
  timerRows: TimerRepository
  alarmRows: AlarmRepository
}) {
  const timers = await deps.timers.requeuePending(deps.queue)
  const alarms = await deps.watch.queueComing(deps.queue)
  let revived = 0
  const failed: Job[] = await deps.queue.getFailed(0, 999)
  for (const job of failed) {
    const d = (job.data ?? {}) as { timerId?: unknown; alarmId?: unknown }
    const row =
      job.name === 'timer.scheduled' && typeof d.timerId === 'string'
        ? await deps.timerRows
            .find(deps.db, d.timerId)
            .one()
            .catch(() => null)
        : job.name === 'deadline.scheduled' && typeof d.alarmId === 'string'
          ? await deps.alarmRows
              .find(deps.db, d.alarmId)
              .one()
              .catch(() => null)
          : null
    if (row?.status === 'pending') {
      await job.retry('failed')
      revived++
    }
  }
  return { timers, alarms, revived }
}
