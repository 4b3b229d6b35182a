import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { StatementBatch } from '../db/statement-batch.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import type { InstanceRepository, InstanceRow } from '../instances/instance.repository.ts'
import type { TaskRepository, TaskRow } from '../tasks/task.repository.ts'
import type { InstanceService } from '../instances/instance.service.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { TimerLookahead } from './timer-lookahead.ts'
import { timerJobId } from './timer.observer.ts'
import type { TimerRepository, TimerRow } from './timer.repository.ts'
import { queueEveryPending, type TimerScheduler } from './scheduled-jobs.ts'

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
  instances: InstanceRepository
  dossiers: DossierRepository
  tasks: TaskRepository
  versions: ProcedureVersionCache
  instanceService: InstanceService
  /** Firings prepared ahead of their due time (committed in groups); without one, every firing is live. */
  lookahead?: TimerLookahead
}) {
  const { db, clock } = deps
  return {
    async fire(timerId: string): Promise<FireOutcome> {
      const prepared = await deps.lookahead?.fire(timerId)
      if (prepared) return prepared
      const seen = await deps.timers.find(db, timerId)
      if (!seen || seen.status !== 'pending') return 'skipped'
      return db.transaction(async (tx) => {
        // One round trip: the locks in every writer's order (instance, timer, dossier), the open tasks and the saved state.
        const reads = new StatementBatch()
        const at = {
          instance: reads.read(deps.instances.lockQuery(tx, seen.instance_id)),
          timer: reads.read(deps.timers.lockQuery(tx, timerId)),
          dossier: reads.read(deps.dossiers.lockQuery(tx, seen.dossier_id)),
          open: reads.read(deps.tasks.openForInstance(tx, seen.instance_id)),
          state: reads.read(deps.instances.stateQuery(tx, seen.instance_id)),
        }
        const rows = await reads.flush(tx)
        const instance = rows[at.instance]![0] as InstanceRow | undefined
        const timer = rows[at.timer]![0] as TimerRow | undefined
        if (!instance || !timer || timer.status !== 'pending' || instance.status !== 'running') return 'skipped'
        const now = clock.now()
        if (new Date(timer.due_at) > now) return 'not-due'
        const dossier = rows[at.dossier]![0] as DossierRow
        const version = await deps.versions.get(tx, instance.procedure_version_id)
        // Written at once, not batched: the timer observer reads the pending timers during the step.
        await deps.timers.markFired(tx, timer.id, now)
        const state = (rows[at.state]![0] as { state: unknown } | undefined)?.state ?? null
        await deps.instanceService.step(tx, { instance, version, dossier }, { kind: 'fireTimer', executionId: timer.execution_id }, {
          actor: 'system',
          now,
          open: rows[at.open] as TaskRow[],
          state,
          history: [{ dossier_id: dossier.id, activity_id: timer.activity_id, action: 'timer.fired', actor: 'system', details: { timerId: timer.id, dueAt: new Date(timer.due_at).toISOString() }, at: now }],
        })
        return 'fired' as const
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
    requeuePending: (scheduler: TimerScheduler): Promise<number> => queueEveryPending({
      scheduler,
      now: () => clock.now(),
      page: (afterId) => deps.timers.pending(db, { limit: 1000, afterId }),
      job: (t) => ({ name: 'timer.scheduled', data: { timerId: t.id }, jobId: timerJobId(t.id), dueAt: new Date(t.due_at) }),
    }),
  }
}
export type TimerService = ReturnType<typeof createTimerService>
