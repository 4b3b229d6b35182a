import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

export type AlarmKind = 'due_soon' | 'overdue'
export type DeadlineState = 'on_track' | AlarmKind

/** A deadline alarm: one of the two moments the deadline watch reports on a dossier or a task. */
export interface AlarmRow {
  id: string
  dossier_id: string
  /** Null: the dossier's appointment date (ngày hẹn trả); else one task's due date. */
  task_id: string | null
  kind: AlarmKind
  deadline_at: Date
  fire_at: Date
  status: 'pending' | 'fired' | 'cancelled'
  created_at: Date
  fired_at: Date | null
}

/** Deadline alarms: queries, run alone (`await`) or in a unit of work. */
export function createAlarmRepository() {
  return {
    /** Live (pending and fired: cancelled ones no longer matter) alarms of dossiers (ids, or a subquery), by dossier then id. */
    liveForDossiers: (q: Queryable, dossierIds: string[] | Knex.QueryBuilder) =>
      read<AlarmRow>(
        q('deadline_alarms')
          .whereIn('dossier_id', dossierIds)
          .whereIn('status', ['pending', 'fired'])
          .orderBy(['dossier_id', 'id'])
          .select('*'),
      ),
    find: (q: Queryable, id: string) => read<AlarmRow>(q('deadline_alarms').where({ id }).select('*')),
    lock: (q: Queryable, id: string) => read<AlarmRow>(q('deadline_alarms').where({ id }).forUpdate().select('*')),
    insertMany: (q: Queryable, rows: Array<Omit<AlarmRow, 'status'> & { status: 'pending' | 'fired' }>) =>
      write(rows.length ? q('deadline_alarms').insert(rows) : null),
    cancel: (q: Queryable, ids: string[]) =>
      write(ids.length ? q('deadline_alarms').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'cancelled' }) : null),
    markFired: (q: Queryable, id: string, now: Date) =>
      write(q('deadline_alarms').where({ id }).update({ status: 'fired', fired_at: now })),
    /** Pending alarms due by `dueBy` (past ones included), by id, for queueing their jobs. */
    pending: (q: Queryable, opts: { limit: number; afterId?: string; dueBy: Date }) => {
      const query = q<AlarmRow>('deadline_alarms')
        .where({ status: 'pending' })
        .where('fire_at', '<=', opts.dueBy)
        .orderBy('id')
        .limit(opts.limit)
      if (opts.afterId) query.where('id', '>', opts.afterId)
      return read<AlarmRow>(query.select('*'))
    },
    /** Pending alarms due by `at`, in firing order (due-soon before overdue at the same instant). */
    due: (q: Queryable, at: Date, limit: number) =>
      read<AlarmRow>(
        q('deadline_alarms')
          .where({ status: 'pending' })
          .where('fire_at', '<=', at)
          .orderBy([{ column: 'fire_at' }, { column: 'kind' }, { column: 'id' }])
          .limit(limit)
          .select('*'),
      ),
  }
}
export type AlarmRepository = ReturnType<typeof createAlarmRepository>
