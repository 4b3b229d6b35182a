import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'

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

export function createAlarmRepository() {
  return {
    /** Pending and fired alarms of a dossier (cancelled ones no longer matter). */
    live: (q: Queryable, dossierId: string): Promise<AlarmRow[]> => q<AlarmRow>('deadline_alarms').where({ dossier_id: dossierId }).whereIn('status', ['pending', 'fired']),
    /** Live alarms of several dossiers, by dossier then id (a stable order to compare), unrun. */
    liveForDossiersQuery: (q: Queryable, dossierIds: string[] | Knex.QueryBuilder) => q<AlarmRow>('deadline_alarms').whereIn('dossier_id', dossierIds).whereIn('status', ['pending', 'fired']).orderBy(['dossier_id', 'id']).select('*'),
    find: async (q: Queryable, id: string): Promise<AlarmRow | null> => (await q<AlarmRow>('deadline_alarms').where({ id }).first()) ?? null,
    lock: async (q: Queryable, id: string): Promise<AlarmRow | null> => (await q<AlarmRow>('deadline_alarms').where({ id }).forUpdate().first()) ?? null,
    // Writes return the unrun query (await it or hand it to a StatementBatch); null = nothing to write.
    insertMany: (q: Queryable, rows: Array<Omit<AlarmRow, 'status'> & { status: 'pending' | 'fired' }>) => (rows.length ? q('deadline_alarms').insert(rows) : null),
    cancel: (q: Queryable, ids: string[]) => (ids.length ? q('deadline_alarms').whereIn('id', ids).where({ status: 'pending' }).update({ status: 'cancelled' }) : null),
    async markFired(q: Queryable, id: string, now: Date): Promise<void> {
      await q('deadline_alarms').where({ id }).update({ status: 'fired', fired_at: now })
    },
    /** Pending alarms due by `dueBy` (past ones included), by id, for queueing their jobs. */
    pending: (q: Queryable, opts: { limit: number; afterId?: string; dueBy: Date }) => {
      const query = q<AlarmRow>('deadline_alarms').where({ status: 'pending' }).where('fire_at', '<=', opts.dueBy).orderBy('id').limit(opts.limit)
      if (opts.afterId) query.where('id', '>', opts.afterId)
      return query
    },
    /** Pending alarms due by `at`, in firing order (due-soon before overdue at the same instant). */
    due: (q: Queryable, at: Date, limit: number) => q<AlarmRow>('deadline_alarms').where({ status: 'pending' }).where('fire_at', '<=', at).orderBy([{ column: 'fire_at' }, { column: 'kind' }, { column: 'id' }]).limit(limit),
  }
}
export type AlarmRepository = ReturnType<typeof createAlarmRepository>
