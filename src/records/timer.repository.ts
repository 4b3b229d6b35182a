import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

export interface TimerRow {
  id: string
  instance_id: string
  dossier_id: string
  activity_id: string
  execution_id: string
  timer_type: string | null
  value: string | null
  due_at: Date
  status: 'pending' | 'fired' | 'cancelled'
  created_at: Date
  fired_at: Date | null
}

/** Durable BPMN timers (mốc hẹn giờ): queries, run alone (`await`) or in a unit of work. */
export function createTimerRepository() {
  return {
    find: (q: Queryable, id: string) => read<TimerRow>(q('timers').where({ id }).select('*')),
    /** Pending timers of instances (ids, or a subquery that selects them), by instance then id (a stable order to compare). */
    pendingForInstances: (q: Queryable, instanceIds: string[] | Knex.QueryBuilder) =>
      read<TimerRow>(
        q('timers').whereIn('instance_id', instanceIds).where({ status: 'pending' }).orderBy(['instance_id', 'id']).select('*'),
      ),
    /** Locks timer rows in id order. */
    lock: (q: Queryable, ids: string[]) => read<TimerRow>(q('timers').whereIn('id', ids).orderBy('id').forUpdate().select('*')),
    /** Pending timers coming due after `after` and by `until`, earliest first (the look-ahead). */
    comingDue: (q: Queryable, after: Date, until: Date, limit: number) =>
      read<TimerRow>(
        q('timers')
          .where({ status: 'pending' })
          .where('due_at', '>', after)
          .where('due_at', '<=', until)
          .orderBy([{ column: 'due_at' }, { column: 'id' }])
          .limit(limit)
          .select('*'),
      ),
    insertMany: (q: Queryable, rows: Omit<TimerRow, 'fired_at'>[]) => write(rows.length ? q('timers').insert(rows) : null),
    cancel: (q: Queryable, ids: string[]) =>
      write(ids.length ? q('timers').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'cancelled' }) : null),
    /** Pending timers that fired inside another step (they came due before it). */
    markFiredMany: (q: Queryable, ids: string[], now: Date) =>
      write(ids.length ? q('timers').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'fired', fired_at: now }) : null),
    markFired: (q: Queryable, id: string, now: Date) => write(q('timers').where({ id }).update({ status: 'fired', fired_at: now })),
    /** Pending timers, by id, for re-queueing and sweeps. */
    pending: (q: Queryable, opts: { dueBefore?: Date; limit: number; afterId?: string }) => {
      const query = q<TimerRow>('timers').where({ status: 'pending' }).orderBy('id').limit(opts.limit)
      if (opts.dueBefore) query.where('due_at', '<=', opts.dueBefore)
      if (opts.afterId) query.where('id', '>', opts.afterId)
      return read<TimerRow>(query.select('*'))
    },
  }
}
export type TimerRepository = ReturnType<typeof createTimerRepository>
