import type { Api } from '../http/schemas.ts'
import { evaluationDto, type EvaluationService } from './evaluation.service.ts'
import { getEvaluationSchema, submitEvaluationSchema } from './evaluation.schemas.ts'

/** The applicant's evaluation (đánh giá mức độ hài lòng) of a returned dossier: once per dossier. */
export async function evaluationRoutes(app: Api, opts: { evaluations: EvaluationService }) {
  app.post('/dossiers/:id/evaluation', { schema: submitEvaluationSchema }, async (req, reply) => {
    return reply.status(201).send(evaluationDto(await opts.evaluations.submit(req.principal, req.params.id, req.body)))
  })
  app.get('/dossiers/:id/evaluation', { schema: getEvaluationSchema }, async (req) => {
    return evaluationDto(await opts.evaluations.get(req.principal, req.params.id))
  })
}
