import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Variables = (description: string) =>
  Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), { maxProperties: 50, description })

/** Camunda 7's `POST /message` body (the fields this system runs). */
export const MessageBody = Type.Object(
  {
    messageName: Name,
    businessKey: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Mã hồ sơ (dossier code)' })),
    processInstanceId: Type.Optional(Type.String({ format: 'uuid' })),
    correlationKeys: Type.Optional(Variables('Process variables the instance must hold, each equal to the value given')),
    processVariables: Type.Optional(Variables('Set on the instance as the message is delivered')),
    all: Type.Optional(Type.Boolean({ description: 'Deliver to every match; without it exactly one instance must match' })),
    resultEnabled: Type.Optional(Type.Boolean({ description: 'Answer the correlation results' })),
  },
  { additionalProperties: false },
)

const Result = Type.Object({
  resultType: Type.Literal('Execution'),
  processInstanceId: Type.String(),
  businessKey: Type.String({ description: 'Mã hồ sơ' }),
  dossierId: Type.String(),
  dossierStatus: Type.String(),
})

export const correlateSchema = {
  tags: ['messages'],
  summary: 'Deliver a message to the running instances waiting for it (Camunda 7 POST /message)',
  body: MessageBody,
  response: {
    200: Type.Object({ correlated: Type.Integer({ minimum: 1 }), results: Type.Optional(Type.Array(Result)) }),
    ...errorResponses(
      AUTH,
      INPUT,
      JSON_BODY,
      STEP,
      'FORBIDDEN',
      'MESSAGE_NOT_CORRELATED',
      'MESSAGE_CORRELATION_AMBIGUOUS',
      'TASK_CANCELLED',
    ),
  },
}
