import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Variables = (description: string) =>
  Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
    maxProperties: 50,
    additionalProperties: false,
    description,
  })

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

/** A message start event started a new dossier (Camunda 7: `resultType: ProcessDefinition`). */
const StartResult = Type.Object({
  resultType: Type.Literal('ProcessDefinition'),
  processInstance: Type.Object({
    id: Type.String(),
    businessKey: Type.String({ description: 'Mã hồ sơ mới' }),
    definitionId: Type.String({ description: 'Mã thủ tục:phiên bản' }),
    ended: Type.Boolean(),
  }),
  dossierId: Type.String(),
  dossierStatus: Type.String(),
})

export const correlateSchema = {
  tags: ['messages'],
  summary:
    'Deliver a message to the running instances waiting for it, or start a new dossier at the message start event that waits for it (Camunda 7 POST /message)',
  body: MessageBody,
  response: {
    200: Type.Object({
      correlated: Type.Integer({ minimum: 1 }),
      results: Type.Optional(Type.Array(Type.Union([Result, StartResult]))),
    }),
    ...errorResponses(
      AUTH,
      INPUT,
      JSON_BODY,
      STEP,
      'FORBIDDEN',
      'MESSAGE_NOT_CORRELATED',
      'MESSAGE_CORRELATION_AMBIGUOUS',
      'TASK_CANCELLED',
      'PROCEDURE_NOT_FOUND',
      'CHANNEL_NOT_ALLOWED',
      'POSTAL_HANDOVER_REQUIRED',
    ),
  },
}

/** Camunda 7's `POST /signal` body; `tenantId` is the agency (cơ quan) whose instances receive it. */
export const SignalBody = Type.Object(
  {
    name: Name,
    variables: Type.Optional(Variables('Set on each instance as the signal is delivered')),
    tenantId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Mã cơ quan (agency); by default the caller’s' })),
  },
  { additionalProperties: false },
)

export const signalSchema = {
  tags: ['messages'],
  summary: 'Deliver a signal to every waiting instance of the agency (Camunda 7 POST /signal); answers how many received it',
  body: SignalBody,
  response: {
    200: Type.Object({ delivered: Type.Integer({ minimum: 0 }) }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, STEP, 'FORBIDDEN', 'TASK_CANCELLED'),
  },
}
