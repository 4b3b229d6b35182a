import { Type, type TSchema } from '@fastify/type-provider-typebox'
import {
  AUTH,
  errorResponses,
  IdParam,
  INPUT,
  JSON_BODY,
  NullableInteger,
  NullableString,
  NullableTimestamp,
  STEP,
  Timestamp,
} from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'
import { MAX_ASYNC_RESPONSE_MS } from './external-task.service.ts'

const Name = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' })
const WorkerId = Type.String({ minLength: 1, maxLength: 200 })
const Duration = Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600_000, description: 'milliseconds' })
/** Camunda 7 typed variables: `{name: {value, type, valueInfo}}`. */
const TypedVariables = Type.Record(
  Name,
  Type.Object(
    {
      value: Type.Unknown(),
      type: Type.Optional(Type.String({ maxLength: 50 })),
      valueInfo: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, ...variablesLimits },
)
const TypedOut = Type.Record(
  Type.String(),
  Type.Object({ value: Type.Unknown(), type: Type.String(), valueInfo: Type.Record(Type.String(), Type.Unknown()) }),
)

export const ExternalTask = Type.Object({
  id: Type.String(),
  topicName: Type.String(),
  workerId: NullableString,
  lockExpirationTime: NullableTimestamp,
  processInstanceId: Type.String(),
  processDefinitionKey: Type.String({ description: 'The procedure code' }),
  activityId: Type.String(),
  activityInstanceId: Type.String(),
  executionId: Type.String(),
  businessKey: Type.String({ description: 'Mã hồ sơ (dossier code)' }),
  retries: NullableInteger,
  errorMessage: NullableString,
  priority: Type.Integer(),
  suspended: Type.Boolean(),
  tenantId: NullableString,
  createTime: Timestamp,
  variables: Type.Optional(TypedOut),
})

export const FetchBody = Type.Object(
  {
    workerId: WorkerId,
    maxTasks: Type.Integer({ minimum: 1, maximum: 100 }),
    usePriority: Type.Optional(Type.Boolean()),
    asyncResponseTimeout: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ASYNC_RESPONSE_MS })),
    topics: Type.Array(
      // Camunda's other topic filters (processDefinitionKey, tenantId…) are accepted and not applied.
      Type.Object(
        {
          topicName: Type.String({ minLength: 1, maxLength: 200 }),
          lockDuration: Duration,
          variables: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
        },
        { additionalProperties: true },
      ),
      { minItems: 1, maxItems: 20 },
    ),
  },
  { additionalProperties: false },
)
export const CompleteBody = Type.Object(
  { workerId: WorkerId, variables: Type.Optional(TypedVariables), localVariables: Type.Optional(TypedVariables) },
  { additionalProperties: false },
)
export const FailureBody = Type.Object(
  {
    workerId: WorkerId,
    errorMessage: Type.Optional(Type.String({ maxLength: 2000 })),
    errorDetails: Type.Optional(Type.String({ maxLength: 20_000 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    retryTimeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600_000 })),
  },
  { additionalProperties: false },
)
export const BpmnErrorBody = Type.Object(
  {
    workerId: WorkerId,
    errorCode: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$' }),
    errorMessage: Type.Optional(Type.String({ maxLength: 1000 })),
    variables: Type.Optional(TypedVariables),
  },
  { additionalProperties: false },
)
export const ExtendLockBody = Type.Object({ workerId: WorkerId, newDuration: Duration }, { additionalProperties: false })
export const UnlockBody = Type.Object({}, { additionalProperties: true })

const ANSWER_ERRORS = [
  AUTH,
  INPUT,
  JSON_BODY,
  STEP,
  'EXTERNAL_TASK_NOT_FOUND',
  'EXTERNAL_TASK_TOPIC_FORBIDDEN',
  'EXTERNAL_TASK_LOCK_NOT_HELD',
  'HANDOFF_ALREADY_ANSWERED',
  'TASK_CANCELLED',
] as const
const Answered = Type.Object({ id: Type.String(), state: Type.String(), dossierStatus: Type.String() })

export const fetchSchema = {
  tags: ['external tasks'],
  summary: 'Fetch and lock external tasks of the worker’s topics (Camunda 7 fetchAndLock, long polling)',
  body: FetchBody,
  response: { 200: Type.Array(ExternalTask), ...errorResponses(AUTH, INPUT, JSON_BODY, 'EXTERNAL_TASK_TOPIC_FORBIDDEN') },
}
export const completeSchema = {
  tags: ['external tasks'],
  summary: 'Complete a locked external task: its variables are set on the process',
  params: IdParam,
  body: CompleteBody,
  response: { 200: Answered, ...errorResponses(...ANSWER_ERRORS) },
}
export const bpmnErrorSchema = {
  tags: ['external tasks'],
  summary: 'Throw a BPMN error from a locked external task (an error boundary or event sub-process catches it)',
  params: IdParam,
  body: BpmnErrorBody,
  response: { 200: Answered, ...errorResponses(...ANSWER_ERRORS, 'BPMN_ERROR_NOT_CAUGHT') },
}
export const failureSchema = {
  tags: ['external tasks'],
  summary: 'Report a failure: retried after retryTimeout while retries are left, else an incident',
  params: IdParam,
  body: FailureBody,
  response: {
    200: Type.Object({ id: Type.String(), state: Type.String(), retries: Type.Integer() }),
    ...errorResponses(
      AUTH,
      INPUT,
      JSON_BODY,
      'EXTERNAL_TASK_NOT_FOUND',
      'EXTERNAL_TASK_TOPIC_FORBIDDEN',
      'EXTERNAL_TASK_LOCK_NOT_HELD',
      'HANDOFF_ALREADY_ANSWERED',
    ),
  },
}
export const extendLockSchema = {
  tags: ['external tasks'],
  summary: 'Extend the worker’s lock on an external task',
  params: IdParam,
  body: ExtendLockBody,
  response: {
    200: Type.Object({ id: Type.String(), lockExpirationTime: Timestamp }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'EXTERNAL_TASK_NOT_FOUND', 'EXTERNAL_TASK_TOPIC_FORBIDDEN', 'EXTERNAL_TASK_LOCK_NOT_HELD'),
  },
}
export const unlockSchema = {
  tags: ['external tasks'],
  summary: 'Release the lock of an external task: it can be fetched again at once',
  params: IdParam,
  response: {
    200: Type.Object({ id: Type.String(), state: Type.String() }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'EXTERNAL_TASK_NOT_FOUND', 'EXTERNAL_TASK_TOPIC_FORBIDDEN'),
  },
}
export const getSchema = {
  tags: ['external tasks'],
  summary: 'One external task',
  params: IdParam,
  response: { 200: ExternalTask, ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'EXTERNAL_TASK_NOT_FOUND') },
}
export const listSchema = {
  tags: ['external tasks'],
  summary: 'External tasks, cursor-paginated (workers: their topics; admins: all)',
  querystring: Type.Object(
    {
      topicName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      workerId: Type.Optional(WorkerId),
      locked: Type.Optional(Type.Boolean()),
      dossierId: Type.Optional(Type.String({ format: 'uuid' })),
      state: Type.Optional(
        Type.Union([Type.Literal('pending'), Type.Literal('completed'), Type.Literal('incident'), Type.Literal('cancelled')]),
      ),
      limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      cursor: Type.Optional(Type.String({ maxLength: 300 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ items: Type.Array(ExternalTask), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}

/** Camunda 7's error answer (what camunda-external-task-client-js reads): `{type, message, code}`. */
const CamundaError = Type.Object({ type: Type.String(), message: Type.String(), code: Type.String() })
const camunda = <T extends object, O extends Record<number, TSchema>>(s: T, ok: O) => ({
  ...s,
  hide: true,
  response: { ...ok, '4XX': CamundaError, '5XX': CamundaError },
})
export const engineRest = {
  fetch: camunda({ body: FetchBody }, { 200: Type.Array(ExternalTask) }),
  complete: camunda({ params: IdParam, body: CompleteBody }, { 204: Type.Null() }),
  failure: camunda({ params: IdParam, body: FailureBody }, { 204: Type.Null() }),
  bpmnError: camunda({ params: IdParam, body: BpmnErrorBody }, { 204: Type.Null() }),
  extendLock: camunda({ params: IdParam, body: ExtendLockBody }, { 204: Type.Null() }),
  unlock: camunda({ params: IdParam }, { 204: Type.Null() }),
}
