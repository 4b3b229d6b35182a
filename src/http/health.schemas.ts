import { Type } from '@fastify/type-provider-typebox'
import { errorResponses } from './schemas.ts'

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  checks: Type.Record(Type.String(), Type.String(), { description: 'One entry per dependency (postgres, redis): "ok" or what failed' }),
})

export const healthSchema = {
  tags: ['system'],
  summary: 'Liveness and dependencies: 200 when every check is ok, 503 otherwise',
  security: [],
  response: { 200: Health, 503: { ...Health, description: 'A dependency is down' }, ...errorResponses() },
}
