import { Type } from '@fastify/type-provider-typebox'
import {
  AUTH,
  errorResponses,
  fileResponse,
  INPUT,
  NullableInteger,
  NullableString,
  NullableTimestamp,
  Timestamp,
} from '../http/schemas.ts'
import { FIGURES } from './board.repository.ts'

const Day = Type.String({ format: 'date', description: 'A Vietnam calendar day, YYYY-MM-DD' })
const Agency = Type.Optional(
  Type.String({ maxLength: 100, description: 'Admins: one agency (default every agency); supervisors: their own' }),
)
const ProcedureCode = Type.Optional(Type.String({ maxLength: 64 }))
const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 })
const Cursor = Type.Optional(Type.String({ maxLength: 300 }))
const Format = Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' })
const Figure = Type.Union(
  FIGURES.map((f) => Type.Literal(f)),
  { description: 'The figure of Today whose dossiers are listed' },
)
const TaskState = Type.Union([Type.Literal('overdue'), Type.Literal('due_soon'), Type.Literal('all')], { default: 'overdue' })
const Count = Type.Integer({ minimum: 0 })

const Counts = {
  received: Count,
  in_process: Count,
  due_soon: Count,
  overdue: Count,
  resolved_early: Count,
  resolved_on_time: Count,
  resolved_late: Count,
}

export const BoardDossier = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  procedureCode: Type.String(),
  agency: Type.String(),
  status: Type.String(),
  statusLabel: Type.String(),
  channel: Type.Integer(),
  applicantName: NullableString,
  submittedAt: Timestamp,
  appointmentAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  deadlineState: Type.String({ description: 'on_track, due_soon, overdue while unfinished; early, on_time, late once finished; none' }),
  workingMinutesLeft: { ...NullableInteger, description: 'Unfinished: working minutes before the appointment, negative when late' },
})

export const BoardTask = Type.Object({
  id: Type.String({ format: 'uuid' }),
  dossierId: Type.String({ format: 'uuid' }),
  dossierCode: Type.String(),
  procedureCode: Type.String(),
  agency: Type.String(),
  activityId: Type.String(),
  name: Type.String(),
  assignee: NullableString,
  candidateGroups: Type.Array(Type.String()),
  dueAt: NullableTimestamp,
  appointmentAt: NullableTimestamp,
  deadlineState: Type.String(),
  workingMinutesLeft: { ...NullableInteger, description: 'Working minutes before the step is due, negative when late' },
})

const ReportRow = Type.Object({
  key: Type.String({ description: 'The agency or the procedure code' }),
  carried_over: Count,
  received: Count,
  online: Count,
  counter: Count,
  postal: Count,
  resolved: Count,
  resolved_early: Count,
  resolved_on_time: Count,
  resolved_late: Count,
  in_progress: Count,
})

const period = { from: Day, to: Day }
const optionalPeriod = { from: Type.Optional(Day), to: Type.Optional(Day) }

export const todaySchema = {
  tags: ['supervision'],
  summary:
    'Today: dossiers received and resolved early / on time / late in a period, and unfinished now (in process, due soon, overdue), by agency and procedure',
  querystring: Type.Object(
    {
      ...period,
      agency: Agency,
      procedureCode: ProcedureCode,
      groupBy: Type.Optional(
        Type.Union([Type.Literal('agency'), Type.Literal('procedure')], {
          description: 'procedure (default): a row per agency and procedure; agency: a row per agency, procedure_code null',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      period: Type.Object(period),
      agency: NullableString,
      rows: Type.Array(Type.Object({ agency: Type.String(), procedure_code: NullableString, ...Counts })),
      totals: Type.Object(Counts),
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN'),
  },
}

const dossierListQuery = { figure: Figure, ...optionalPeriod, agency: Agency, procedureCode: ProcedureCode }
export const boardDossiersSchema = {
  tags: ['supervision'],
  summary: 'The dossiers behind a figure of Today, one page (keyset cursor)',
  querystring: Type.Object({ ...dossierListQuery, limit: Limit, cursor: Cursor }, { additionalProperties: false }),
  response: {
    200: Type.Object({ items: Type.Array(BoardDossier), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}

const taskListQuery = {
  state: TaskState,
  agency: Agency,
  procedureCode: ProcedureCode,
  activityId: Type.Optional(Type.String({ maxLength: 200, description: 'One step (BPMN element id)' })),
  assignee: Type.Optional(Type.String({ maxLength: 200, description: 'One officer (user id)' })),
}
export const boardTasksSchema = {
  tags: ['supervision'],
  summary: 'Open steps overdue or due soon, by agency, procedure, step or officer, earliest due first (keyset cursor)',
  querystring: Type.Object({ ...taskListQuery, limit: Limit, cursor: Cursor }, { additionalProperties: false }),
  response: {
    200: Type.Object({ items: Type.Array(BoardTask), nextCursor: NullableString }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'CURSOR_INVALID'),
  },
}

export const stepCountsSchema = {
  tags: ['supervision'],
  summary: "Open, due-soon and overdue steps per activity of one procedure version (the diagram's overlays)",
  querystring: Type.Object(
    {
      procedureCode: Type.String({ minLength: 1, maxLength: 64 }),
      version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: the latest' })),
      agency: Agency,
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      procedureCode: Type.String(),
      version: Type.Integer(),
      agency: NullableString,
      steps: Type.Array(Type.Object({ activityId: Type.String(), name: Type.String(), open: Count, dueSoon: Count, overdue: Count })),
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN', 'PROCEDURE_VERSION_NOT_FOUND'),
  },
}

const reportQuery = {
  ...period,
  agency: Agency,
  procedureCode: ProcedureCode,
  groupBy: Type.Union([Type.Literal('agency'), Type.Literal('procedure')], { default: 'agency' }),
}
export const reportSchema = {
  tags: ['supervision'],
  summary:
    'The periodic report of TTHC results: carried over, received (online, counter, post), resolved (early, on time, late), in progress',
  querystring: Type.Object(reportQuery, { additionalProperties: false }),
  response: {
    200: Type.Object({
      period: Type.Object(period),
      agency: NullableString,
      groupBy: Type.String(),
      rows: Type.Array(ReportRow),
      total: Type.Omit(ReportRow, ['key']),
    }),
    ...errorResponses(AUTH, INPUT, 'FORBIDDEN'),
  },
}

const exportResponse = (what: string) => ({
  200: fileResponse(what, ['text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']),
  ...errorResponses(AUTH, INPUT, 'FORBIDDEN'),
})
export const exportDossiersSchema = {
  tags: ['supervision'],
  summary: 'Export every dossier behind a figure of Today (CSV or XLSX, streamed)',
  querystring: Type.Object({ ...dossierListQuery, format: Format }, { additionalProperties: false }),
  response: exportResponse('The list, one row per dossier, Vietnamese headers'),
}
export const exportTasksSchema = {
  tags: ['supervision'],
  summary: 'Export every open step overdue or due soon (CSV or XLSX, streamed)',
  querystring: Type.Object({ ...taskListQuery, format: Format }, { additionalProperties: false }),
  response: exportResponse('The list, one row per step, Vietnamese headers'),
}
export const exportReportSchema = {
  tags: ['supervision'],
  summary: 'Export the periodic report of TTHC results (CSV or XLSX)',
  querystring: Type.Object({ ...reportQuery, format: Format }, { additionalProperties: false }),
  response: exportResponse('One row per agency or procedure and a total, Vietnamese headers'),
}
export const exportIndicatorsSchema = {
  tags: ['supervision'],
  summary: 'Export the Decision 766 indicators of a period (CSV or XLSX)',
  querystring: Type.Object({ ...period, agency: Agency, format: Format }, { additionalProperties: false }),
  response: exportResponse('One row per indicator: numerator, denominator, rate, Vietnamese headers'),
}
