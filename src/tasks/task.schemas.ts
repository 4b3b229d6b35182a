import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, IdParam, INPUT, JSON_BODY, NullableString, NullableTimestamp, STEP, Timestamp } from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'

const DeadlineView = Type.String({ description: 'on_track, due_soon, overdue while open; early, on_time, late once done; none' })

/** A field of a task's form (camunda:formData): what to show and what a completion must meet. */
const FormField = Type.Object({
  id: Type.String({ description: 'The variable the field sets' }),
  label: NullableString,
  type: Type.Union([Type.Literal('string'), Type.Literal('long'), Type.Literal('boolean'), Type.Literal('date'), Type.Literal('enum')]),
  defaultValue: Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()], { description: 'Set when the field is not sent' }),
  values: Type.Array(Type.Object({ id: Type.String(), name: NullableString }), { description: 'The choices of an enum field' }),
  constraints: Type.Array(
    Type.Object({
      name: Type.Union([
        Type.Literal('required'),
        Type.Literal('readonly'),
        Type.Literal('minlength'),
        Type.Literal('maxlength'),
        Type.Literal('min'),
        Type.Literal('max'),
      ]),
      config: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
})

/** A task as the API shows it (taskDto). */
export const Task = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  activityId: Type.String(),
  dossierId: Type.String({ format: 'uuid' }),
  procedureCode: Type.String(),
  agency: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('cancelled')]),
  candidateGroups: Type.Array(Type.String()),
  candidateUsers: Type.Array(Type.String()),
  assignee: NullableString,
  formKey: NullableString,
  due: NullableTimestamp,
  followUp: NullableTimestamp,
  deadlineState: DeadlineView,
  created: Timestamp,
  claimedAt: NullableTimestamp,
  completedAt: NullableTimestamp,
  completedBy: NullableString,
  /** Only on GET /api/tasks/:id: the task's form, null when it has none. */
  form: Type.Optional(Type.Union([Type.Object({ fields: Type.Array(FormField) }), Type.Null()])),
})

/** What a step answers: the dossier's status after it and the open tasks it left. */
export const StepResult = Type.Object({
  dossierId: Type.String({ format: 'uuid' }),
  dossierStatus: Type.String(),
  processEnded: Type.Boolean(),
  nextTasks: Type.Array(Task),
})

const ListQuery = Type.Object(
  {
    candidateGroup: Type.Optional(Type.String({ maxLength: 100 })),
    assignee: Type.Optional(Type.String({ maxLength: 100 })),
    unassigned: Type.Optional(Type.Boolean()),
    procedureCode: Type.Optional(Type.String({ maxLength: 64 })),
    dossierId: Type.Optional(Type.String({ format: 'uuid' })),
    dueBefore: Type.Optional(Type.String({ format: 'date-time' })),
    dueAfter: Type.Optional(Type.String({ format: 'date-time' })),
    followUpBefore: Type.Optional(Type.String({ format: 'date-time' })),
    followUpAfter: Type.Optional(Type.String({ format: 'date-time' })),
    status: Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('cancelled')], { default: 'open' }),
    sortBy: Type.Union([Type.Literal('created'), Type.Literal('due'), Type.Literal('followUp')], { default: 'created' }),
    sortOrder: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
)

const CompleteBody = Type.Object(
  {
    variables: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
      default: {},
      additionalProperties: false,
      ...variablesLimits,
    }),
  },
  { additionalProperties: false },
)

const BpmnErrorBody = Type.Object(
  {
    errorCode: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$' }),
    errorMessage: Type.Optional(Type.String({ maxLength: 1000 })),
    variables: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
      default: {},
      additionalProperties: false,
      ...variablesLimits,
    }),
  },
  { additionalProperties: false },
)

const BpmnEscalationBody = Type.Object(
  {
    escalationCode: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$' }),
    variables: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
      default: {},
      additionalProperties: false,
      ...variablesLimits,
    }),
  },
  { additionalProperties: false },
)

const CLAIM_ERRORS = errorResponses(
  AUTH,
  INPUT,
  JSON_BODY,
  'FORBIDDEN',
  'TASK_NOT_FOUND',
  'TASK_ALREADY_COMPLETED',
  'TASK_CLAIMED_BY_OTHER',
)

export const listTasksSchema = {
  tags: ['tasks'],
  summary: 'Task queue, cursor-paginated',
  querystring: ListQuery,
  response: {
    200: Type.Object({ items: Type.Array(Task), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}
export const getTaskSchema = {
  tags: ['tasks'],
  summary: 'One task',
  params: IdParam,
  response: { 200: Task, ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'TASK_NOT_FOUND') },
}
export const claimTaskSchema = {
  tags: ['tasks'],
  summary: 'Take the task (a no-op when it is already yours)',
  params: IdParam,
  response: { 200: Task, ...CLAIM_ERRORS },
}
export const unclaimTaskSchema = {
  tags: ['tasks'],
  summary: 'Give the task back',
  params: IdParam,
  response: { 200: Task, ...CLAIM_ERRORS },
}
export const completeTaskSchema = {
  tags: ['tasks'],
  summary: "Complete a task with variables; returns the dossier's next open tasks",
  params: IdParam,
  body: CompleteBody,
  response: {
    200: StepResult,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORM_FIELD_INVALID', 'FORBIDDEN', 'TASK_NOT_FOUND', 'TASK_CLAIMED_BY_OTHER', STEP),
  },
}
export const bpmnErrorTaskSchema = {
  tags: ['tasks'],
  summary: 'End the task by throwing a BPMN error from it (Camunda 7 bpmnError): a matching error boundary takes the process on',
  params: IdParam,
  body: BpmnErrorBody,
  response: {
    200: StepResult,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'TASK_NOT_FOUND', 'TASK_CLAIMED_BY_OTHER', 'BPMN_ERROR_NOT_CAUGHT', STEP),
  },
}
export const bpmnEscalationTaskSchema = {
  tags: ['tasks'],
  summary: 'Raise an escalation from the task (Camunda 7 bpmnEscalation): a non-interrupting catcher leaves the task open',
  params: IdParam,
  body: BpmnEscalationBody,
  response: {
    200: StepResult,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'TASK_NOT_FOUND', 'TASK_CLAIMED_BY_OTHER', 'ESCALATION_NOT_CAUGHT', STEP),
  },
}

const { form: _form, ...taskFields } = Task.properties
/** GET /api/tasks/queue: the caller's own queue, earliest due first. */
export const taskQueueSchema = {
  tags: ['tasks'],
  summary: "An officer's own queue: open tasks they hold or may claim, earliest due first, with the working time left",
  querystring: Type.Object(
    {
      agency: Type.Optional(
        Type.String({ maxLength: 100, description: 'Admins: one agency (default every agency); others: their own only' }),
      ),
      limit: Type.Integer({ minimum: 1, maximum: 50, default: 50 }),
      cursor: Type.Optional(Type.String({ maxLength: 300 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      items: Type.Array(
        Type.Object({
          ...taskFields,
          dossierCode: Type.String(),
          workingMinutesLeft: Type.Union([Type.Integer(), Type.Null()], {
            description: 'Working minutes before the step is due, negative when late; null without a due date',
          }),
        }),
      ),
      nextCursor: NullableString,
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}
