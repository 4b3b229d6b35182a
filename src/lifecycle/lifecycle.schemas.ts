import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, IdParam, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'
import { StepResult, Task } from '../tasks/task.schemas.ts'
import { ACTION_BODIES } from './actions.ts'

const Reason = Type.String({ minLength: 5, maxLength: 2000 })
const Ended = Type.Object({ dossierId: Type.String({ format: 'uuid' }), dossierStatus: Type.String() })
/** Refusals of every route that moves a dossier on. */
const MOVE = [AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'DOSSIER_NOT_FOUND', 'DOSSIER_CLOSED'] as const

export const availableActionsSchema = {
  tags: ['lifecycle'],
  summary: 'Actions the caller can take on the dossier now',
  params: IdParam,
  response: {
    200: Type.Object({
      items: Type.Array(
        Type.Object({ action: Type.String(), taskId: Type.String({ format: 'uuid' }), taskName: Type.String(), activityId: Type.String() }),
      ),
    }),
    ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND'),
  },
}

export const actSchema = {
  tags: ['lifecycle'],
  summary: `Lifecycle action: ${Object.keys(ACTION_BODIES).join(', ')}. Completes the open task that offers it. The body depends on the action (docs/api.md).`,
  params: Type.Object({ id: Type.String({ format: 'uuid' }), action: Type.String({ maxLength: 64 }) }),
  response: {
    200: StepResult,
    ...errorResponses(...MOVE, 'ROUTE_NOT_FOUND', 'ACTION_NOT_AVAILABLE', 'SUPPLEMENT_ITEMS_INVALID', 'RESULT_DOCUMENT_REQUIRED', STEP),
  },
}

export const supplementSchema = {
  tags: ['lifecycle'],
  summary: 'The applicant hands in the requested items (nộp bổ sung hồ sơ)',
  params: IdParam,
  body: Type.Object(
    {
      note: Type.Optional(Type.String({ maxLength: 2000 })),
      documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 50, uniqueItems: true })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ dossierId: Type.String({ format: 'uuid' }), dossierStatus: Type.String(), nextTasks: Type.Array(Task) }),
    ...errorResponses(...MOVE, 'ACTION_NOT_AVAILABLE', 'DOCUMENT_NOT_FOUND', 'NOT_WAITING_FOR_MESSAGE', STEP),
  },
}

export const withdrawSchema = {
  tags: ['lifecycle'],
  summary:
    "Withdrawal (rút hồ sơ, status 7): by the applicant, or by a one-stop officer with the applicant's written request uploaded to the dossier (requestDocumentId)",
  params: IdParam,
  body: Type.Object({ reason: Reason, requestDocumentId: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: false }),
  response: { 200: Ended, ...errorResponses(...MOVE, 'WITHDRAWAL_REQUEST_REQUIRED', 'CONCURRENT_MODIFICATION') },
}

export const stopSchema = {
  tags: ['lifecycle'],
  summary: 'Stop the processing (dừng xử lý, status 8): leaders and supervisors',
  params: IdParam,
  body: Type.Object({ reason: Reason }, { additionalProperties: false }),
  response: { 200: Ended, ...errorResponses(...MOVE, 'CONCURRENT_MODIFICATION') },
}
