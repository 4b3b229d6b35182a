import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
import type { TimerRepository } from '../records/timer.repository.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { TimerLookahead } from './timer-lookahead.ts'
import { timerJobId } from './timer.observer.ts'
import { queueEveryPending, type TimerScheduler } from '../outbox/scheduled-jobs.ts'

export type FireOutcome = 'fired' | 'not-due' | 'skipped'

/**
 * Fires durable BPMN timers: a timer row and its instance change in one transaction, so a timer
 * fires exactly once however many jobs (or sweeps) reach it, and never before its due time.
 */
export function createTimerService(deps: {
  db: Db
  clock: Clock
  log: Logger
  timers: TimerRepository
  steps: StepRunner
  /** Firings prepared ahead of their due time (committed in groups); without one, every firing is live. */
  lookahead?: TimerLookahead
}) {
  const { db, clock } = deps
  return {
    async fire(timerId: string): Promise<FireOutcome> {
      const prepared = await deps.lookahead?.fire(timerId)
      if (prepared) return prepared
      const seen = await deps.timers.find(db, timerId).one()
      if (!seen || seen.status !== 'pending') return 'skipped'
      return transaction(db, async (uow) => {
        // One round trip: the step's locks (the timer's among them), its reads and the saved state.
        const locked = await deps.steps.lock(uow, { timers: [seen] }, { state: true })
        const data = locked.dataFor(seen.instance_id)
        const timer = locked.timers[0]
        if (!data || !timer || timer.status !== 'pending' || data.instance.status !== 'running') return uow.finish('skipped' as const)
        const now = clock.now()
        if (new Date(timer.due_at) > now) return uow.finish('not-due' as const)
        const version = await deps.steps.version(uow.tx, data.instance)
        uow.write(deps.timers.markFired(uow.tx, timer.id, now))
        await deps.steps.step(
          { uow, version, data },
          { kind: 'fireTimer', executionId: timer.execution_id },
          {
            actor: 'system',
            now,
            fallbackStatus: null,
            history: [
              {
                dossier_id: data.dossier.id,
                activity_id: timer.activity_id,
                action: 'timer.fired',
                actor: 'system',
                details: { timerId: timer.id, dueAt: new Date(timer.due_at).toISOString() },
                at: now,
              },
            ],
          },
        )
        return uow.finish('fired' as const)
      })
    },

    /** Fires every pending timer due by now (a sweep; the BullMQ worker fires them one by one). */
    async fireDue(limit = 1000): Promise<number> {
      let fired = 0
      for (const t of await deps.timers.pending(db, { dueBefore: clock.now(), limit })) {
        if ((await this.fire(t.id)) === 'fired') fired++
      }
      return fired
    },

    /** Queues a job for every pending timer (after Redis lost its data, and every minute). */
    requeuePending: (scheduler: TimerScheduler): Promise<number> =>
      queueEveryPending({
        scheduler,
        now: () => clock.now(),
        page: (afterId) => deps.timers.pending(db, { limit: 1000, afterId }).rows(),
        job: (t) => ({ name: 'timer.scheduled', data: { timerId: t.id }, jobId: timerJobId(t.id), dueAt: new Date(t.due_at) }),
      }),
  }
}
export type TimerService = ReturnType<typeof createTimerService>
