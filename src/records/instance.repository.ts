import type { KeyOrSubquery, Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

export interface InstanceRow {
  id: string
  dossier_id: string
  procedure_version_id: number
  status: 'running' | 'completed' | 'failed' | 'terminated'
  state?: unknown | null
  step_id: string | null
  version: number
  error: string | null
  /** A called procedure's instance: the caller's instance and the call activity (and its execution) that started it. */
  parent_instance_id?: string | null
  parent_activity_id?: string | null
  parent_execution_id?: string | null
  /** How many call activities deep (0: the dossier's own procedure). */
  call_depth?: number
  created_at: Date
  updated_at: Date
}

export interface InstanceSummary {
  id: string
  parent_instance_id: string | null
  parent_activity_id: string | null
  status: InstanceRow['status']
  created_at: Date
  procedure_code: string
  procedure_version: number
}

/** Every column but the (large) engine state, read separately and only when needed. */
const COLUMNS = [
  'id',
  'dossier_id',
  'procedure_version_id',
  'status',
  'step_id',
  'version',
  'error',
  'parent_instance_id',
  'parent_activity_id',
  'parent_execution_id',
  'call_depth',
  'created_at',
  'updated_at',
]

/** Process instances (phiên bản quy trình đang chạy): queries, run alone (`await`) or in a unit of work. */
export function createInstanceRepository() {
  return {
    insert: (
      q: Queryable,
      row: Pick<
        InstanceRow,
        'id' | 'dossier_id' | 'procedure_version_id' | 'parent_instance_id' | 'parent_activity_id' | 'parent_execution_id' | 'call_depth'
      >,
      now: Date,
    ) =>
      write(
        q('process_instances').insert({
          ...row,
          status: 'running',
          state: null,
          step_id: null,
          version: 0,
          created_at: now,
          updated_at: now,
        }),
      ),
    /** Locks instances, in id order: by id(s), or every instance of the dossier(s) a subquery selects. */
    lock: (q: Queryable, where: { id: KeyOrSubquery | string[] } | { dossierId: KeyOrSubquery | string[] }) => {
      const query = q<InstanceRow>('process_instances')
      if ('dossierId' in where && Array.isArray(where.dossierId)) query.whereIn('dossier_id', where.dossierId)
      else if ('dossierId' in where) query.where('dossier_id', where.dossierId)
      else if (Array.isArray(where.id)) query.whereIn('id', where.id)
      else query.where('id', where.id)
      return read<InstanceRow>(query.orderBy('id').forNoKeyUpdate().select(COLUMNS))
    },
    /** Every instance of a dossier (its procedure's and those of the procedures it called), oldest first, without state. */
    forDossier: (q: Queryable, dossierId: string) =>
      read<InstanceRow>(
        q('process_instances')
          .where({ dossier_id: dossierId })
          .orderBy([{ column: 'created_at' }, { column: 'id' }])
          .select(COLUMNS),
      ),
    /** The dossier's instances as its page lists them (callers before the procedures they call): procedure code and version, caller, status. */
    summaryForDossier: (q: Queryable, dossierId: string) =>
      read<InstanceSummary>(
        q('process_instances as pi')
          .join('procedure_versions as v', 'v.id', 'pi.procedure_version_id')
          .where('pi.dossier_id', dossierId)
          .orderBy([{ column: 'pi.call_depth' }, { column: 'pi.created_at' }, { column: 'pi.id' }])
          .select(
            'pi.id',
            'pi.parent_instance_id',
            'pi.parent_activity_id',
            'pi.status',
            'pi.created_at',
            'v.procedure_code',
            'v.version as procedure_version',
          ),
      ),
    /** The row without its state. */
    find: (q: Queryable, id: string) => read<InstanceRow>(q('process_instances').where({ id }).select(COLUMNS)),
    /** The row with its saved state, read together (a state always matches the version beside it). */
    withState: (q: Queryable, id: string) => read<InstanceRow>(q('process_instances').where({ id }).select('*')),
    /** The saved engine state alone. */
    state: (q: Queryable, id: KeyOrSubquery) =>
      read<Pick<InstanceRow, 'id' | 'state'>>(q('process_instances').where('id', id).select('id', 'state')),
    /** Saves a step; the update matches one row only if nobody else saved since `expectedVersion` was read. */
    saveState: (
      q: Queryable,
      id: string,
      expectedVersion: number,
      patch: { state: unknown; stepId: string; status: InstanceRow['status'] },
      now: Date,
    ) =>
      write(
        q('process_instances')
          .where({ id, version: expectedVersion })
          .update({
            state: JSON.stringify(patch.state),
            step_id: patch.stepId,
            status: patch.status,
            version: expectedVersion + 1,
            updated_at: now,
          }),
      ),
    /** Ends an instance from outside the diagram; its last state stays as it was, for the record. Matches one row only at `expectedVersion`. */
    markTerminated: (q: Queryable, id: string, expectedVersion: number, now: Date) =>
      write(
        q('process_instances')
          .where({ id, version: expectedVersion })
          .update({ status: 'terminated', step_id: null, version: expectedVersion + 1, updated_at: now }),
      ),
  }
}
export type InstanceRepository = ReturnType<typeof createInstanceRepository>
