import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, IdParam, INPUT, JSON_BODY, NullableString, NullableTimestamp, STEP, Timestamp } from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'

const Variables = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
  additionalProperties: false,
  ...variablesLimits,
})

/** An incident as Camunda 7 names its fields, with the dossier and agencies beside them. */
export const Incident = Type.Object({
  id: Type.String(),
  incidentType: Type.String({ description: 'failedExternalTask | failedJob | failedPortalSync | failedNotification | failedPeerCallback' }),
  incidentMessage: Type.String(),
  incidentTimestamp: Timestamp,
  activityId: Type.Union([Type.String(), Type.Null()], { description: 'Handoffs only' }),
  processInstanceId: Type.Union([Type.String(), Type.Null()], { description: 'Handoffs only' }),
  configuration: Type.String({
    description: 'What failed: the handoff (external task) id, the portal event id, the notification id or the peer handoff id',
  }),
  source: Type.String({ description: 'handoff | portalEvent | citizenNotification | peerCallback' }),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'What the kind adds: the portal status event; the channel, masked recipient and event of a notification',
  }),
  dossierId: Type.String(),
  procedureCode: Type.String(),
  agency: Type.String(),
  receivingAgency: NullableString,
  state: Type.String({ description: 'open | resolved' }),
  resolvedAt: NullableTimestamp,
  resolvedBy: NullableString,
  note: NullableString,
})

export const listIncidentsSchema = {
  tags: ['incidents'],
  summary:
    'Incidents of everything sent out (handoffs, portal sync, notifications, peer callbacks), cursor-paginated (officers: their agency; admins: any)',
  querystring: Type.Object(
    {
      type: Type.Optional(
        Type.Union([
          Type.Literal('failedExternalTask'),
          Type.Literal('failedJob'),
          Type.Literal('failedPortalSync'),
          Type.Literal('failedNotification'),
          Type.Literal('failedPeerCallback'),
        ]),
      ),
      agency: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      procedureCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      dossierId: Type.Optional(Type.String({ format: 'uuid' })),
      state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
      limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      cursor: Type.Optional(Type.String({ maxLength: 300 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ items: Type.Array(Incident), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}

export const retryIncidentSchema = {
  tags: ['incidents'],
  summary:
    'Retry what failed (its retries set again: the handoff, portal event, notification or peer callback); the incident resolves when it then succeeds',
  params: IdParam,
  body: Type.Object({ retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }),
  response: {
    200: Incident,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'INCIDENT_NOT_FOUND', 'INCIDENT_ALREADY_RESOLVED'),
  },
}

export const resolveIncidentSchema = {
  tags: ['incidents'],
  summary: 'Resolve an incident by hand, with a note',
  params: IdParam,
  body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
  response: {
    200: Incident,
    ...errorResponses(AUTH, INPUT, JSON_BODY, 'FORBIDDEN', 'INCIDENT_NOT_FOUND', 'INCIDENT_ALREADY_RESOLVED'),
  },
}

export const CallbackBody = Type.Union([
  Type.Object({ outcome: Type.Literal('complete'), variables: Type.Optional(Variables) }, { additionalProperties: false }),
  Type.Object(
    {
      outcome: Type.Literal('bpmnError'),
      errorCode: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$' }),
      errorMessage: Type.Optional(Type.String({ maxLength: 1000 })),
      variables: Type.Optional(Variables),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      outcome: Type.Literal('failure'),
      errorMessage: Type.String({ minLength: 1, maxLength: 2000 }),
      errorDetails: Type.Optional(Type.String({ maxLength: 20_000 })),
    },
    { additionalProperties: false },
  ),
])

export const callbackSchema = {
  tags: ['handoffs'],
  summary: "A peer system's signed answer to a handoff (no JWT: X-Tthc-Timestamp and X-Tthc-Signature)",
  params: IdParam,
  body: CallbackBody,
  response: {
    200: Type.Object({ handoffId: Type.String(), state: Type.String() }),
    ...errorResponses(
      INPUT,
      JSON_BODY,
      STEP,
      'HANDOFF_SIGNATURE_INVALID',
      'HANDOFF_TIMESTAMP_EXPIRED',
      'HANDOFF_NOT_FOUND',
      'HANDOFF_ALREADY_ANSWERED',
      'BPMN_ERROR_NOT_CAUGHT',
    ),
  },
}

export const Handoff = Type.Object({
  id: Type.String(),
  dossierId: Type.String(),
  businessKey: Type.String({ description: 'Mã hồ sơ' }),
  activityId: Type.String(),
  topic: Type.String(),
  receivingAgency: NullableString,
  adapter: NullableString,
  state: Type.String({ description: 'pending | waiting | completed | incident | cancelled' }),
  createdAt: Timestamp,
  sentAt: NullableTimestamp,
  answeredAt: NullableTimestamp,
  dueAt: NullableTimestamp,
  overdue: Type.Boolean(),
  attempts: Type.Integer(),
  retries: Type.Union([Type.Integer(), Type.Null()]),
  lastError: NullableString,
})

export const dossierHandoffsSchema = {
  tags: ['handoffs'],
  summary: 'The handoffs of a dossier: receiving agency, sent, answered, due, state, attempts, last error',
  params: IdParam,
  response: { 200: Type.Object({ items: Type.Array(Handoff) }), ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND') },
}

export const supervisionHandoffsSchema = {
  tags: ['supervision'],
  summary: 'Handoffs waiting on other agencies, by receiving agency: waiting, overdue, stuck, in an incident',
  querystring: Type.Object(
    {
      agency: Type.Optional(
        Type.String({ minLength: 1, maxLength: 64, description: 'The sending agency (admins; default: the caller’s)' }),
      ),
      stuckMinutes: Type.Integer({ minimum: 1, maximum: 525_600, default: 1440 }),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      byReceivingAgency: Type.Array(
        Type.Object({
          receivingAgency: NullableString,
          waiting: Type.Integer(),
          overdue: Type.Integer(),
          stuck: Type.Integer(),
          incidents: Type.Integer(),
        }),
      ),
      items: Type.Array(Handoff),
      openIncidents: Type.Array(
        Type.Object({
          type: Type.String({ description: 'failedExternalTask | failedJob | failedPortalSync | failedNotification | failedPeerCallback' }),
          open: Type.Integer(),
        }),
        { description: 'Open incidents of every kind of the agency (or all, for admins), by type' },
      ),
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN'),
  },
}
