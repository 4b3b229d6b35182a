import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, INPUT, NullableNumber, NullableString, NullableTimestamp } from '../http/schemas.ts'
import { Dossier } from '../dossiers/dossier.schemas.ts'

const Rate = (counts: Record<string, string>) =>
  Type.Object({
    rate: { ...NullableNumber, description: 'Between 0 and 1, rounded to 4 decimals; null without data' },
    ...Object.fromEntries(Object.entries(counts).map(([k, description]) => [k, Type.Integer({ description })])),
  })

const Indicators = Type.Object({
  period: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }),
  agency: { ...NullableString, description: 'null: every agency (admins)' },
  received: Type.Integer(),
  onTime: Rate({ onTime: 'Finished on or before the appointment', finished: 'Finished' }),
  onlineDossiers: Rate({ online: 'Submitted online', received: 'Received' }),
  early: Rate({ early: 'Finished before the appointment date (trước hạn)', finished: 'Finished' }),
  postalDossiers: Rate({ postal: 'Submitted by public post (bưu chính công ích)', received: 'Received' }),
  level4Procedures: Rate({ level4: 'Fully online procedures (toàn trình)', procedures: 'Procedures' }),
  onlineProcedures: Rate({ online: 'Procedures of level 3 or 4', procedures: 'Procedures' }),
  paidOnline: Rate({ paidOnline: 'Paid online', received: 'Received' }),
  electronicResults: Rate({ electronic: 'Results returned online', returned: 'Returned' }),
  digitised: Rate({ digitised: 'With submitted documents', received: 'Received' }),
  satisfaction: Rate({ satisfied: 'Satisfied evaluations', evaluated: 'Evaluations' }),
})

const OpenTask = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  assignee: NullableString,
  candidateGroups: Type.Array(Type.String()),
  due: NullableTimestamp,
  deadlineState: Type.String(),
})

export const indicatorsSchema = {
  tags: ['supervision'],
  summary:
    'Decision 766 indicators for a period: on-time rate, online dossiers, level-4 procedures, paid online, electronic results, digitised, satisfaction',
  querystring: Type.Object(
    { from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }), agency: Type.Optional(Type.String({ maxLength: 100 })) },
    { additionalProperties: false },
  ),
  response: { 200: Indicators, ...errorResponses(AUTH, INPUT, 'FORBIDDEN') },
}

export const deadlinesSchema = {
  tags: ['supervision'],
  summary: 'Unfinished dossiers overdue (quá hạn) or due soon (sắp đến hạn), earliest appointment first',
  querystring: Type.Object(
    {
      state: Type.Union([Type.Literal('overdue'), Type.Literal('due_soon'), Type.Literal('all')], { default: 'overdue' }),
      procedureCode: Type.Optional(Type.String({ maxLength: 64 })),
      agency: Type.Optional(Type.String({ maxLength: 100 })),
      limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      cursor: Type.Optional(Type.String({ maxLength: 300 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      items: Type.Array(
        Type.Intersect([
          Dossier,
          Type.Object({
            workingMinutesLeft: Type.Integer({ description: 'Negative: how late it already is' }),
            openTasks: Type.Array(OpenTask),
          }),
        ]),
      ),
      nextCursor: NullableString,
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}
