import { Type } from '@fastify/type-provider-typebox'
import { errorResponses, INPUT } from '../http/schemas.ts'

export const lookupSchema = {
  tags: ['public'],
  summary: 'Public dossier lookup by code + ID number (no login, rate-limited)',
  security: [],
  querystring: Type.Object(
    {
      code: Type.String({ pattern: '^[0-9A-Za-z.]{1,40}-[0-9]{6}-[0-9]{4}$' }),
      idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,20}$' }),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      code: Type.String(),
      nationalStatus: Type.Integer({ description: 'Trạng thái hồ sơ theo mã quốc gia' }),
      completion: Type.String({ description: 'Mức độ hoàn thành, bằng chữ' }),
    }),
    ...errorResponses(INPUT, 'LOOKUP_NOT_FOUND', 'RATE_LIMITED'),
  },
}
