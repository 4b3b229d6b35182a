import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { hasRole } from '../auth/principal.ts'
import type { DossierService } from '../dossiers/dossier.service.ts'
import { DossierStatus } from '../records/statuses.ts'

/** docs/domain.md#citizen-evaluation: the nine items (a)–(i) the applicant rates, 1 không hài lòng, 2 hài lòng, 3 rất hài lòng. */
export const EVALUATION_ITEMS = {
  a: 'Thời gian giải quyết',
  b: 'Số lượng cơ quan phải liên hệ',
  c: 'Số lần phải liên hệ',
  d: 'Tính chính xác của thông tin công khai',
  e: 'Thái độ của cán bộ',
  f: 'Tính hợp pháp và chi phí',
  g: 'Việc tiếp nhận, xử lý phản ánh, kiến nghị',
  h: 'Chất lượng dịch vụ công trực tuyến',
  i: 'Nội dung khác',
} as const

const Rating = Type.Integer({ minimum: 1, maximum: 3 })
const Body = Type.Object({
  ratings: Type.Object(Object.fromEntries(Object.keys(EVALUATION_ITEMS).map((k) => [k, Rating])) as Record<keyof typeof EVALUATION_ITEMS, typeof Rating>, { additionalProperties: false }),
  comment: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false })

/** The applicant's evaluation (đánh giá mức độ hài lòng) of a returned dossier: once per dossier. */
export async function evaluationRoutes(app: FastifyInstance, opts: { db: Db; clock: Clock; dossiers: DossierService }) {
  app.post('/dossiers/:id/evaluation', { schema: { tags: ['evaluation'], summary: 'Rate the handling after the return (items a–i, docs/domain.md#citizen-evaluation)', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), body: Body } }, async (req, reply) => {
    const { dossier: d } = await opts.dossiers.get(req.principal, (req.params as { id: string }).id)
    if (!hasRole(req.principal, 'citizen') || (d.applicant_user_id !== req.principal.userId && d.submitted_by !== req.principal.userId)) throw new AppError('FORBIDDEN', 'Chỉ người nộp hồ sơ được đánh giá')
    if (d.status !== DossierStatus.RETURNED) throw new AppError('EVALUATION_NOT_ALLOWED', 'Chỉ đánh giá được sau khi đã nhận kết quả', { status: d.status })
    const body = req.body as { ratings: Record<string, number>; comment?: string }
    const satisfied = Object.values(body.ratings).every((r) => r >= 2)
    const row = { dossier_id: d.id, evaluated_by: req.principal.userId, ratings: JSON.stringify(body.ratings), satisfied, comment: body.comment ?? null, created_at: opts.clock.now() }
    const inserted = await opts.db('evaluations').insert(row).onConflict('dossier_id').ignore().returning('dossier_id')
    if (!inserted.length) throw new AppError('EVALUATION_ALREADY_GIVEN', 'Hồ sơ đã được đánh giá')
    await opts.db('history').insert({ dossier_id: d.id, action: 'evaluation.submitted', actor: req.principal.userId, details: JSON.stringify({ satisfied }), at: row.created_at })
    return reply.status(201).send({ dossierId: d.id, ratings: body.ratings, satisfied, comment: row.comment, createdAt: row.created_at })
  })
  app.get('/dossiers/:id/evaluation', { schema: { tags: ['evaluation'], params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (req) => {
    const { dossier: d } = await opts.dossiers.get(req.principal, (req.params as { id: string }).id)
    const e = await opts.db('evaluations').where({ dossier_id: d.id }).first()
    if (!e) throw new AppError('DOSSIER_NOT_FOUND', 'Hồ sơ chưa được đánh giá')
    return { dossierId: d.id, ratings: e.ratings, satisfied: e.satisfied, comment: e.comment, createdAt: e.created_at }
  })
}
