import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'

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

export function createTimerRepository() {
  return {
    pendingForInstance: (q: Queryable, instanceId: string): Promise<TimerRow[]> => q<TimerRow>('timers').where({ instance_id: instanceId, status: 'pending' }),
    find: async (q: Queryable, id: string): Promise<TimerRow | null> => (await q<TimerRow>('timers').where({ id }).first()) ?? null,
    /** Pending timers of several instances, by instance then id (a stable order to compare), unrun. */
    pendingForInstancesQuery: (q: Queryable, instanceIds: string[] | Knex.QueryBuilder) => q<TimerRow>('timers').whereIn('instance_id', instanceIds).where({ status: 'pending' }).orderBy(['instance_id', 'id']).select('*'),
    /** Locks several timer rows in id order, unrun. */
    lockManyQuery: (q: Queryable, ids: string[]) => q<TimerRow>('timers').whereIn('id', ids).orderBy('id').forUpdate().select('*'),
    /** Pending timers coming due after `after` and by `until`, earliest first (the look-ahead). */
    comingDue: (q: Queryable, after: Date, until: Date, limit: number): Promise<TimerRow[]> =>
      q<TimerRow>('timers').where({ status: 'pending' }).where('due_at', '>', after).where('due_at', '<=', until).orderBy([{ column: 'due_at' }, { column: 'id' }]).limit(limit),
    /** Locks a timer row; unrun (for a StatementBatch read). */
    lockQuery: (q: Queryable, id: string) => q<TimerRow>('timers').where({ id }).forUpdate().select('*'),
    // Writes return the unrun query (await it or hand it to a StatementBatch); null = nothing to write.
    insertMany: (q: Queryable, rows: Omit<TimerRow, 'fired_at'>[]) => (rows.length ? q('timers').insert(rows) : null),
    cancel: (q: Queryable, ids: string[]) => (ids.length ? q('timers').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'cancelled' }) : null),
    /** Pending timers that fired inside another step (they came due before it), unrun. */
    markFiredMany: (q: Queryable, ids: string[], now: Date) => (ids.length ? q('timers').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'fired', fired_at: now }) : null),
    /** Unrun (await it or hand it to a StatementBatch). */
    markFired: (q: Queryable, id: string, now: Date) => q('timers').where({ id }).update({ status: 'fired', fired_at: now }),
    /** Pending timers, earliest first, for re-queueing and sweeps. */
    pending: (q: Queryable, opts: { dueBefore?: Date; limit: number; afterId?: string }) => {
      const query = q<TimerRow>('timers').where({ status: 'pending' }).orderBy('id').limit(opts.limit)
      if (opts.dueBefore) query.where('due_at', '<=', opts.dueBefore)
      if (opts.afterId) query.where('id', '>', opts.afterId)
      return query
    },
  }
}
export type TimerRepository = ReturnType<typeof createTimerRepository>
