import type { Queryable } from '../db/knex.ts'
import type { MessageCatches, MessageStarts, UserTaskSpec } from '../engine/definition.ts'
import type { CallSpecs, DeployedProcedure } from '../engine/call-activity.ts'
import type { ProcedureMetadata } from './metadata.ts'

export interface ProcedureRow {
  code: string
  name: string
  agency: string
  latest_version: number
  created_at: Date
  updated_at: Date
}

export interface ProcedureVersionRow {
  id: number
  procedure_code: string
  version: number
  content_hash: string
  process_id: string
  xml: string
  metadata: ProcedureMetadata
  user_tasks: Record<string, UserTaskSpec>
  activity_statuses: Record<string, string>
  message_catches: MessageCatches
  /** Signal catches by signal name (same shape: the signal's id and the catching elements). */
  signal_catches: MessageCatches
  /** Message start events by message name (POST /api/messages starts a new dossier there). */
  message_starts: MessageStarts
  /** Call activities that start another deployed procedure (its own instance), by activity id. */
  calls: CallSpecs
  source_context: object
  warnings: unknown[]
  deployed_by: string
  deployed_at: Date
}

const VERSION_SUMMARY = [
  'id',
  'procedure_code',
  'version',
  'content_hash',
  'process_id',
  'metadata',
  'warnings',
  'deployed_by',
  'deployed_at',
] as const

export function createProcedureRepository() {
  return {
    async lockProcedure(q: Queryable, code: string): Promise<ProcedureRow | null> {
      return (await q<ProcedureRow>('procedures').where({ code }).forUpdate().first()) ?? null
    },
    async findProcedure(q: Queryable, code: string): Promise<ProcedureRow | null> {
      return (await q<ProcedureRow>('procedures').where({ code }).first()) ?? null
    },
    async findVersion(q: Queryable, code: string, version: number): Promise<ProcedureVersionRow | null> {
      return (await q<ProcedureVersionRow>('procedure_versions').where({ procedure_code: code, version }).first()) ?? null
    },
    async findVersionById(q: Queryable, id: number): Promise<ProcedureVersionRow | null> {
      return (await q<ProcedureVersionRow>('procedure_versions').where({ id }).first()) ?? null
    },
    async latestVersionId(q: Queryable, code: string): Promise<number | null> {
      const row = await q<ProcedureVersionRow>('procedure_versions').where({ procedure_code: code }).orderBy('version', 'desc').first('id')
      return row ? Number(row.id) : null
    },
    /** The deployed procedure a call activity names: by process id (its latest version with it), else by procedure code. */
    async deployedForCall(q: Queryable, name: string): Promise<DeployedProcedure | null> {
      const byProcess = await q<ProcedureVersionRow>('procedure_versions')
        .where({ process_id: name })
        .orderBy('id', 'desc')
        .first('procedure_code')
      const code = byProcess?.procedure_code ?? name
      const rows = await q<ProcedureVersionRow>('procedure_versions')
        .where({ procedure_code: code })
        .orderBy('version')
        .select('id', 'version')
      if (!rows.length) return null
      return { procedureCode: code, versions: rows.map((r) => Number(r.version)), latestVersionId: Number(rows.at(-1)!.id) }
    },
    async insertProcedure(q: Queryable, row: Pick<ProcedureRow, 'code' | 'name' | 'agency'>): Promise<void> {
      await q('procedures')
        .insert({ ...row, latest_version: 0 })
        .onConflict('code')
        .ignore()
    },
    async insertVersion(q: Queryable, row: Omit<ProcedureVersionRow, 'id' | 'deployed_at'>): Promise<ProcedureVersionRow> {
      const [inserted] = await q<ProcedureVersionRow>('procedure_versions')
        .insert({
          ...row,
          metadata: JSON.stringify(row.metadata),
          user_tasks: JSON.stringify(row.user_tasks),
          activity_statuses: JSON.stringify(row.activity_statuses),
          message_catches: JSON.stringify(row.message_catches),
          signal_catches: JSON.stringify(row.signal_catches),
          message_starts: JSON.stringify(row.message_starts),
          calls: JSON.stringify(row.calls),
          source_context: JSON.stringify(row.source_context),
          warnings: JSON.stringify(row.warnings),
        } as never)
        .returning('*')
      return inserted as ProcedureVersionRow
    },
    async setLatest(q: Queryable, code: string, version: number, name: string, agency: string, now: Date): Promise<void> {
      await q('procedures').where({ code }).update({ latest_version: version, name, agency, updated_at: now })
    },
    async listProcedures(q: Queryable, opts: { agency?: string; limit: number; after?: string }) {
      const query = q<ProcedureRow>('procedures').orderBy('code').limit(opts.limit)
      if (opts.agency) query.where({ agency: opts.agency })
      if (opts.after) query.where('code', '>', opts.after)
      return query
    },
    async listVersions(q: Queryable, code: string) {
      return q('procedure_versions').select(VERSION_SUMMARY).where({ procedure_code: code }).orderBy('version', 'desc')
    },
  }
}
export type ProcedureRepository = ReturnType<typeof createProcedureRepository>
