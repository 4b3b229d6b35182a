import type { KeyOrSubquery, Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

export interface DossierRow {
  id: string
  code: string
  unit_id: string
  procedure_code: string
  procedure_version_id: number
  agency: string
  status: string
  national_status: number
  channel: number
  applicant: Record<string, unknown>
  applicant_user_id: string | null
  data: Record<string, unknown>
  submitted_by: string
  idempotency_key: string | null
  request_hash: string | null
  submitted_at: Date
  finished_at: Date | null
  received_at?: Date | null
  appointment_at?: Date | null
  paused_at?: Date | null
  paused_minutes?: number
  extended_at?: Date | null
  extension_reason?: string | null
  original_appointment_at?: Date | null
  supplement_count?: number
  late_supplement?: boolean
  return_method?: string | null
  returned_at?: Date | null
  /** on_track | due_soon (sắp đến hạn) | overdue (quá hạn), set by the deadline watch. */
  deadline_state?: string
  created_at: Date
  updated_at: Date
}

/** Dossiers (hồ sơ): queries, run alone (`await`) or in a unit of work. */
export function createDossierRepository() {
  return {
    /**
     * Gives the dossiers this transaction inserted with a code marker (`DVCCODE…`) their codes now: the
     * deferred trigger `dossier_code_assign` (migration 021) takes the next number of the unit's daily
     * sequence, whose row then stays locked until the commit, and writes the code where the marker was.
     * Sent in the commit's own message, so the row is held for that message only.
     */
    assignCodes: (q: Queryable) => write(q.raw('SET CONSTRAINTS dossier_code_assign IMMEDIATE')),
    find: (q: Queryable, id: string) => read<DossierRow>(q('dossiers').where({ id }).select('*')),
    /** Locks dossiers in id order: by id(s), or the one a subquery selects. */
    lock: (q: Queryable, id: KeyOrSubquery | string[]) =>
      read<DossierRow>(
        (Array.isArray(id) ? q('dossiers').whereIn('id', id) : q('dossiers').where('id', id)).orderBy('id').forNoKeyUpdate().select('*'),
      ),
    insert: (q: Queryable, row: DossierRow) =>
      write(q('dossiers').insert({ ...row, applicant: JSON.stringify(row.applicant), data: JSON.stringify(row.data) })),
    findByIdempotencyKey: (q: Queryable, submittedBy: string, key: string) =>
      read<DossierRow>(q('dossiers').where({ submitted_by: submittedBy, idempotency_key: key }).select('*')),
    /** Deadline fields: receipt, appointment (ngày hẹn trả), pause and the one-time extension. */
    updateDeadline: (
      q: Queryable,
      id: string,
      patch: Partial<
        Pick<
          DossierRow,
          | 'received_at'
          | 'appointment_at'
          | 'paused_at'
          | 'paused_minutes'
          | 'extended_at'
          | 'extension_reason'
          | 'original_appointment_at'
          | 'updated_at'
        >
      >,
    ) => write(Object.keys(patch).length ? q('dossiers').where({ id }).update(patch) : null),
    /** What a lifecycle action records on the dossier itself (supplements asked for, how the result went back; a postal pickup's hand-over time). */
    updateLifecycle: (
      q: Queryable,
      id: string,
      patch: Partial<Pick<DossierRow, 'supplement_count' | 'late_supplement' | 'return_method' | 'returned_at' | 'submitted_at'>>,
    ) => write(q('dossiers').where({ id }).update(patch)),
    /** Unfinished dossiers in the given deadline states, earliest appointment first (supervisors' view). */
    listByDeadlineState: (
      q: Queryable,
      opts: {
        agency: string | null
        states: string[]
        procedureCode?: string
        after?: { appointmentAt: string; id: string }
        limit: number
      },
    ) => {
      const query = q<DossierRow>('dossiers')
        .whereIn('deadline_state', opts.states)
        .whereNull('finished_at')
        .whereNot('status', 'RESULT_READY')
        .whereNotNull('appointment_at')
        .orderBy([
          { column: 'appointment_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(opts.limit)
      if (opts.agency) query.where({ agency: opts.agency })
      if (opts.procedureCode) query.where({ procedure_code: opts.procedureCode })
      if (opts.after) query.whereRaw('(appointment_at, id) > (?::timestamptz, ?::uuid)', [opts.after.appointmentAt, opts.after.id])
      return read<DossierRow>(query.select('*'))
    },
    setDeadlineState: (q: Queryable, id: string, state: string) => write(q('dossiers').where({ id }).update({ deadline_state: state })),
    setStatus: (q: Queryable, id: string, status: string, nationalStatus: number, finishedAt: Date | null, now: Date) =>
      write(
        q('dossiers')
          .where({ id })
          .update({ status, national_status: nationalStatus, updated_at: now, ...(finishedAt ? { finished_at: finishedAt } : {}) }),
      ),
  }
}
export type DossierRepository = ReturnType<typeof createDossierRepository>
