import type { Queryable } from '../db/knex.ts'

/** What the public lookup may read of a dossier: its code, status, national status and applicant. */
export interface LookupRow {
  code: string
  status: string
  national_status: number
  applicant: { idNumber?: unknown } | null
}

export function createLookupRepository() {
  return {
    async byCode(q: Queryable, code: string): Promise<LookupRow | null> {
      return (await q<LookupRow>('dossiers').where({ code }).first('code', 'status', 'national_status', 'applicant')) ?? null
    },
  }
}
export type LookupRepository = ReturnType<typeof createLookupRepository>
