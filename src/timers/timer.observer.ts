import { randomUUID } from 'node:crypto'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { TimerRepository } from '../records/timer.repository.ts'
import { defineObserver } from '../steps/observer.ts'

export const timerJobId = (timerId: string) => `timer-${timerId}`

/**
 * After every step, makes the `timers` table match what the engine waits for: new timers become rows
 * plus a delayed job (through the outbox), timers the engine dropped (their task finished first) are
 * cancelled along with their job.
 */
export function createTimerObserver(deps: { timers: TimerRepository; history: HistoryRepository }) {
  return defineObserver({
    name: 'durable timers',
    reads: ['pendingTimers'],
    async apply({ uow, instance, dossier, result, now, read }) {
      const pending = read.pendingTimers
      const tx = uow.tx
      const live = new Set(result.timers.map((t) => t.executionId))
      // A timer that came due before the step fired in it (a cycle then waits for its next time, a new
      // row); any other timer the engine no longer waits for died with its activity.
      const firedNow = new Set(result.firedTimers)
      const fired = pending.filter((t) => firedNow.has(t.execution_id))
      const cancelled = pending.filter((t) => !live.has(t.execution_id) && !firedNow.has(t.execution_id))
      const known = new Set(pending.filter((t) => !firedNow.has(t.execution_id)).map((t) => t.execution_id))
      const created = result.timers
        .filter((t) => !known.has(t.executionId))
        .map((t) => ({
          id: randomUUID(),
          instance_id: instance.id,
          dossier_id: dossier.id,
          activity_id: t.activityId,
          execution_id: t.executionId,
          timer_type: t.timerType,
          value: t.value,
          due_at: t.expireAt,
          status: 'pending' as const,
          created_at: now,
        }))
      uow.write(
        deps.timers.markFiredMany(
          tx,
          fired.map((t) => t.id),
          now,
        ),
      )
      uow.write(
        deps.timers.cancel(
          tx,
          cancelled.map((t) => t.id),
        ),
      )
      uow.write(deps.timers.insertMany(tx, created))
      uow.write(
        deps.history.append(tx, [
          ...fired.map((t) => ({
            dossier_id: dossier.id,
            activity_id: t.activity_id,
            action: 'timer.fired',
            actor: 'system',
            details: { timerId: t.id, dueAt: new Date(t.due_at).toISOString() },
            at: now,
          })),
          ...created.map((t) => ({
            dossier_id: dossier.id,
            activity_id: t.activity_id,
            action: 'timer.scheduled',
            actor: 'system',
            details: { timerId: t.id, dueAt: t.due_at.toISOString(), value: t.value },
            at: now,
          })),
          ...cancelled.map((t) => ({
            dossier_id: dossier.id,
            activity_id: t.activity_id,
            action: 'timer.cancelled',
            actor: 'system',
            details: { timerId: t.id },
            at: now,
          })),
        ]),
      )
      return [
        ...created.map((t) => ({
          topic: 'timer.scheduled',
          payload: { timerId: t.id, jobId: timerJobId(t.id), dueAt: t.due_at.toISOString() },
        })),
        ...cancelled.map((t) => ({ topic: 'timer.cancelled', payload: { timerId: t.id, jobId: timerJobId(t.id) } })),
      ]
    },
  })
}
