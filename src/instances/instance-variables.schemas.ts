import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'

/** A variable name, as in task completions and messages. */
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$'

/** The Camunda 7 value types a modification may name; the value must be of that type. */
export const VARIABLE_TYPES = ['String', 'Boolean', 'Integer', 'Short', 'Long', 'Double', 'Date', 'Null', 'Json', 'Object'] as const
export type VariableType = (typeof VARIABLE_TYPES)[number]

const VariableValue = Type.Object(
  {
    value: Type.Unknown(),
    type: Type.Optional(Type.Union(VARIABLE_TYPES.map((t) => Type.Literal(t)))),
  },
  { additionalProperties: false },
)

/** Camunda 7's `POST /process-instance/{id}/variables` body. */
export const ModifyVariablesBody = Type.Object(
  {
    modifications: Type.Optional(
      Type.Record(Type.String({ pattern: VARIABLE_NAME_PATTERN }), VariableValue, {
        maxProperties: 50,
        // TypeBox writes the key pattern as patternProperties only: other names are refused here.
        additionalProperties: false,
        description: 'Variables to set: `{name: {value, type?}}`',
        ...variablesLimits,
      }),
    ),
    deletions: Type.Optional(
      Type.Array(Type.String({ pattern: VARIABLE_NAME_PATTERN }), { maxItems: 50, uniqueItems: true, description: 'Variables to delete' }),
    ),
  },
  { additionalProperties: false },
)

const OpenTask = Type.Object({ id: Type.String(), activityId: Type.String(), name: Type.String() })

export const modifyVariablesSchema = {
  tags: ['process-instances'],
  summary:
    'Set and delete process variables of a running instance (Camunda 7 POST /process-instance/{id}/variables); conditional events that listen for the change are evaluated again',
  params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
  body: ModifyVariablesBody,
  response: {
    200: Type.Object({
      processInstanceId: Type.String(),
      dossierId: Type.String(),
      dossierStatus: Type.String(),
      processEnded: Type.Boolean(),
      openTasks: Type.Array(OpenTask),
    }),
    ...errorResponses(AUTH, INPUT, JSON_BODY, STEP, 'FORBIDDEN', 'PROCESS_INSTANCE_NOT_FOUND', 'VARIABLE_VALUE_INVALID', 'TASK_CANCELLED'),
  },
}
