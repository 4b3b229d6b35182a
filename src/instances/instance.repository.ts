import type { KeyOrSubquery, Queryable } from '../db/knex.ts'

export interface InstanceRow {
  id: string
  dossier_id: string
  procedure_version_id: number
  status: 'running' | 'completed' | 'failed' | 'terminated'
  state?: unknown | null
  step_id: string | null
  version: number
  error: string | null
  created_at: Date
  updated_at: Date
}

const lockQuery = (q: Queryable, id: KeyOrSubquery) =>
  q<InstanceRow>('process_instances').where('id', id).forUpdate().select('id', 'dossier_id', 'procedure_version_id', 'status', 'step_id', 'version', 'error', 'created_at', 'updated_at')

export function createInstanceRepository() {
  return {
    /** The insert of a new instance, unrun (for a StatementBatch). */
    insertQuery: (q: Queryable, row: Pick<InstanceRow, 'id' | 'dossier_id' | 'procedure_version_id'>, now: Date) =>
      q('process_instances').insert({ ...row, status: 'running', state: null, step_id: null, version: 0, created_at: now, updated_at: now }),
    /** Locks the row for a step; the (large) state is read separately, only when needed. */
    async lock(q: Queryable, id: string): Promise<InstanceRow | null> {
      return (await lockQuery(q, id))[0] ?? null
    },
    /** The lock, unrun (for a StatementBatch read). */
    lockQuery,
    /** Locks several instances in id order (the order every multi-instance writer takes), unrun. */
    lockManyQuery: (q: Queryable, ids: string[]) =>
      q<InstanceRow>('process_instances').whereIn('id', ids).orderBy('id').forUpdate().select('id', 'dossier_id', 'procedure_version_id', 'status', 'step_id', 'version', 'error', 'created_at', 'updated_at'),
    /** The row with its saved state, read together (a state always matches the version beside it), unrun. */
    withStateQuery: (q: Queryable, id: string) => q<InstanceRow>('process_instances').where({ id }).select('*'),
    /** Locks every process instance of a dossier (in id order): the first lock of any writer to that dossier. */
    async lockForDossier(q: Queryable, dossierId: string): Promise<void> {
      await q('process_instances').where({ dossier_id: dossierId }).orderBy('id').forUpdate().select('id')
    },
    /** The saved engine state, unrun (for a StatementBatch read). */
    stateQuery: (q: Queryable, id: string) => q('process_instances').where({ id }).select('state'),
    async loadState(q: Queryable, id: string): Promise<unknown | null> {
      const row = await q('process_instances').where({ id }).first('state')
      return row?.state ?? null
    },
    /** Saves a step; the update matches one row only if nobody else saved since `expectedVersion` was read. */
    saveState: (q: Queryable, id: string, expectedVersion: number, patch: { state: unknown; stepId: string; status: InstanceRow['status'] }, now: Date) =>
      q('process_instances')
        .where({ id, version: expectedVersion })
        .update({ state: JSON.stringify(patch.state), step_id: patch.stepId, status: patch.status, version: expectedVersion + 1, updated_at: now }),
    /** Ends an instance from outside the diagram; its last state stays as it was, for the record. */
    async markTerminated(q: Queryable, id: string, expectedVersion: number, now: Date): Promise<boolean> {
      const n = await q('process_instances').where({ id, version: expectedVersion }).update({ status: 'terminated', step_id: null, version: expectedVersion + 1, updated_at: now })
      return n === 1
    },
    async byDossier(q: Queryable, dossierId: string): Promise<InstanceRow[]> {
      return q<InstanceRow>('process_instances').where({ dossier_id: dossierId }).select('id', 'dossier_id', 'procedure_version_id', 'status', 'version', 'created_at', 'updated_at')
    },
  }
}
export type InstanceRepository = ReturnType<typeof createInstanceRepository>
