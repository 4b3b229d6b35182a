import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, IdParam, INPUT, JSON_BODY, NullableString, Timestamp } from '../http/schemas.ts'
import { EVALUATION_ITEMS, type EvaluationItem } from './items.ts'

const Rating = Type.Integer({ minimum: 1, maximum: 3, description: '1 không hài lòng, 2 hài lòng, 3 rất hài lòng' })
const Ratings = Type.Object(
  Object.fromEntries(Object.keys(EVALUATION_ITEMS).map((k) => [k, Rating])) as Record<EvaluationItem, typeof Rating>,
  { additionalProperties: false },
)

const Evaluation = Type.Object({
  dossierId: Type.String({ format: 'uuid' }),
  ratings: Ratings,
  satisfied: Type.Boolean({ description: 'No item rated 1' }),
  comment: NullableString,
  createdAt: Timestamp,
})

export const submitEvaluationSchema = {
  tags: ['evaluation'],
  summary: 'Rate the handling after the return (items a–i, docs/domain.md#citizen-evaluation)',
  params: IdParam,
  body: Type.Object({ ratings: Ratings, comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
  response: {
    201: Evaluation,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'DOSSIER_NOT_FOUND', 'EVALUATION_NOT_ALLOWED', 'EVALUATION_ALREADY_GIVEN'),
  },
}

export const getEvaluationSchema = {
  tags: ['evaluation'],
  summary: "The applicant's evaluation of the dossier",
  params: IdParam,
  response: { 200: Evaluation, ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND', 'EVALUATION_NOT_FOUND') },
}
