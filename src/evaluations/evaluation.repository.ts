import type { Queryable } from '../db/knex.ts'
import type { Ratings } from './items.ts'

/** The applicant's evaluation of a returned dossier (đánh giá mức độ hài lòng): one row per dossier. */
export interface EvaluationRow {
  dossier_id: string
  evaluated_by: string
  ratings: Ratings
  satisfied: boolean
  comment: string | null
  created_at: Date
}

export function createEvaluationRepository() {
  return {
    /** Inserts the evaluation unless the dossier already has one; false when it had. */
    async insertOnce(q: Queryable, row: EvaluationRow): Promise<boolean> {
      const inserted = await q('evaluations')
        .insert({ ...row, ratings: JSON.stringify(row.ratings) })
        .onConflict('dossier_id')
        .ignore()
        .returning('dossier_id')
      return inserted.length > 0
    },
    async find(q: Queryable, dossierId: string): Promise<EvaluationRow | null> {
      return (await q<EvaluationRow>('evaluations').where({ dossier_id: dossierId }).first()) ?? null
    },
  }
}
export type EvaluationRepository = ReturnType<typeof createEvaluationRepository>
