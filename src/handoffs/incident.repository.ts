import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/** An incident (sự cố) as Camunda 7 opens one: a handoff whose retries ran out, waiting for a person. */
export interface IncidentRow {
  id: string
  type: 'failedExternalTask' | 'failedJob'
  handoff_id: string
  dossier_id: string
  instance_id: string
  procedure_code: string
  agency: string
  receiving_agency: string | null
  activity_id: string
  message: string
  state: 'open' | 'resolved'
  created_at: Date
  resolved_at: Date | null
  resolved_by: string | null
  note: string | null
}

export interface IncidentFilter {
  agency?: string
  procedureCode?: string
  dossierId?: string
  state?: 'open' | 'resolved'
  limit: number
  after?: { at: string; id: string }
}

export function createIncidentRepository() {
  return {
    find: (q: Queryable, id: string) => read<IncidentRow>(q('incidents').where({ id }).select('*')),
    lock: (q: Queryable, id: string) => read<IncidentRow>(q('incidents').where({ id }).forUpdate().select('*')),
    /** Opens one (a handoff has at most one open incident). */
    open(q: Queryable, row: Omit<IncidentRow, 'state' | 'resolved_at' | 'resolved_by' | 'note'>) {
      const ins = q('incidents').insert(row).toSQL()
      return write(q.raw(`${ins.sql} ON CONFLICT (handoff_id) WHERE state = 'open' DO NOTHING`, ins.bindings))
    },
    resolve: (q: Queryable, id: string, by: string, note: string | null, now: Date) =>
      write(q('incidents').where({ id, state: 'open' }).update({ state: 'resolved', resolved_at: now, resolved_by: by, note })),
    /** Closes the handoff's open incident (it succeeded after a retry); with a history line. */
    resolveForHandoff: (q: Queryable, handoffId: string, by: string, now: Date) =>
      write(
        q.raw(
          `WITH r AS (UPDATE incidents SET state = 'resolved', resolved_at = :now, resolved_by = :by, note = 'handoff completed'
                      WHERE handoff_id = :handoffId AND state = 'open' RETURNING id, dossier_id, activity_id)
           INSERT INTO history (dossier_id, activity_id, action, actor, details, at)
           SELECT dossier_id, activity_id, 'incident.resolved', :by, jsonb_build_object('incidentId', id, 'handoffId', :handoffId), :now FROM r`,
          { now, by, handoffId },
        ),
      ),
    list(q: Queryable, f: IncidentFilter) {
      const query = q('incidents').orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      if (f.agency) void query.where('agency', f.agency)
      if (f.procedureCode) void query.where('procedure_code', f.procedureCode)
      if (f.dossierId) void query.where('dossier_id', f.dossierId)
      if (f.state) void query.where('state', f.state)
      if (f.after) void query.whereRaw('(created_at, id) > (?, ?)', [f.after.at, f.after.id])
      return read<IncidentRow>(query.limit(f.limit).select('*'))
    },
  }
}
export type IncidentRepository = ReturnType<typeof createIncidentRepository>
