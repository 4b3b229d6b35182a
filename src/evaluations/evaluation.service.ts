import { hasRole, type Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { DossierService } from '../dossiers/dossier.service.ts'
import { DossierStatus } from '../records/statuses.ts'
import { AppError } from '../errors.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { EvaluationRepository, EvaluationRow } from './evaluation.repository.ts'
import type { Ratings } from './items.ts'

export const evaluationDto = (e: EvaluationRow) => ({
  dossierId: e.dossier_id,
  ratings: e.ratings,
  satisfied: e.satisfied,
  comment: e.comment,
  createdAt: e.created_at,
})

/**
 * The applicant's evaluation of a returned dossier: given once, by the applicant (the citizen who
 * submitted it or is named as its applicant), only after the result was returned. Satisfied means no
 * item rated 1.
 */
export function createEvaluationService(deps: {
  db: Db
  clock: Clock
  dossiers: DossierService
  repo: EvaluationRepository
  history: HistoryRepository
}) {
  const { db } = deps
  return {
    async submit(p: Principal, dossierId: string, input: { ratings: Ratings; comment?: string }) {
      const { dossier: d } = await deps.dossiers.get(p, dossierId)
      if (!hasRole(p, 'citizen') || (d.applicant_user_id !== p.userId && d.submitted_by !== p.userId))
        throw new AppError('FORBIDDEN', 'Chỉ người nộp hồ sơ được đánh giá')
      if (d.status !== DossierStatus.RETURNED)
        throw new AppError('EVALUATION_NOT_ALLOWED', 'Chỉ đánh giá được sau khi đã nhận kết quả', { status: d.status })
      const satisfied = Object.values(input.ratings).every((r) => r >= 2)
      const row: EvaluationRow = {
        dossier_id: d.id,
        evaluated_by: p.userId,
        ratings: input.ratings,
        satisfied,
        comment: input.comment ?? null,
        created_at: deps.clock.now(),
      }
      await db.transaction(async (tx) => {
        if (!(await deps.repo.insertOnce(tx, row))) throw new AppError('EVALUATION_ALREADY_GIVEN', 'Hồ sơ đã được đánh giá')
        await deps.history.append(tx, [
          { dossier_id: d.id, action: 'evaluation.submitted', actor: p.userId, details: { satisfied }, at: row.created_at },
        ])
      })
      return row
    },
    /** The dossier's evaluation, for whoever may see the dossier. */
    async get(p: Principal, dossierId: string) {
      const { dossier: d } = await deps.dossiers.get(p, dossierId)
      const row = await deps.repo.find(db, d.id)
      if (!row) throw new AppError('EVALUATION_NOT_FOUND', 'Hồ sơ chưa được đánh giá')
      return row
    },
  }
}
export type EvaluationService = ReturnType<typeof createEvaluationService>
