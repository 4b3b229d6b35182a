import { Type } from '@fastify/type-provider-typebox'
import { errorResponses } from './schemas.ts'

const Checks = Type.Record(Type.String(), Type.String(), { description: 'One entry per dependency (postgres, redis): "ok" or what failed' })
const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
  checks: Checks,
})

export const healthSchema = {
  tags: ['system'],
  summary: 'Every dependency: 200 when every check is ok, 503 otherwise',
  security: [],
  response: { ...errorResponses(), 200: Health, 503: { ...Health, description: 'A dependency is down' } },
}

export const liveSchema = {
  tags: ['system'],
  summary: 'Liveness: the process answers',
  security: [],
  response: { ...errorResponses(), 200: Type.Object({ status: Type.Literal('ok') }) },
}

export const readySchema = {
  tags: ['system'],
  summary: 'Readiness: 200 while Postgres is reachable ("degraded" without Redis: the outbox holds jobs), 503 otherwise',
  security: [],
  response: { ...errorResponses(), 200: Health, 503: { ...Health, description: 'Postgres is unreachable' } },
}
