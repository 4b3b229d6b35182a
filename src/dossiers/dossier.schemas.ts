import { Type } from '@fastify/type-provider-typebox'
import {
  AUTH,
  errorResponses,
  IdParam,
  INPUT,
  JSON_BODY,
  NullableOpenObject,
  NullableString,
  NullableTimestamp,
  OpenObject,
  STEP,
  Timestamp,
} from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'
import { Task } from '../tasks/task.schemas.ts'

export const SubmitBody = Type.Object(
  {
    procedureCode: Type.String({ minLength: 1, maxLength: 64 }),
    applicant: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 200 }),
        idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,20}$', description: 'Số định danh cá nhân / CCCD / mã số doanh nghiệp' }),
        phone: Type.Optional(Type.String({ pattern: '^[+0-9 ]{6,20}$' })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
        address: Type.Optional(Type.String({ maxLength: 500 })),
      },
      { additionalProperties: false },
    ),
    channel: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)], {
      description: '1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích',
    }),
    data: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
      default: {},
      additionalProperties: false,
      ...variablesLimits,
    }),
    postal: Type.Optional(
      Type.Object(
        {
          handoverSignedAt: Type.Optional(
            Type.String({
              format: 'date-time',
              description:
                'Thời điểm ký biên bản giao nhận hồ sơ với nhân viên bưu chính (= thời điểm nộp, docs/domain.md#postal-submission-time)',
            }),
          ),
          pickup: Type.Optional(
            Type.Literal(true, {
              description:
                'Thu gom hồ sơ: bưu chính đến địa chỉ của người nộp (applicant.address) lấy hồ sơ giấy; thời điểm nộp là lúc bàn giao cho Bộ phận Một cửa',
            }),
          ),
          waybill: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$', description: 'Mã vận đơn' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

/** A dossier as the API shows it (dossierDto). */
export const Dossier = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String({ description: 'Mã hồ sơ' }),
  procedureCode: Type.String(),
  agency: Type.String(),
  status: Type.String(),
  statusLabel: Type.String(),
  nationalStatus: Type.Integer({ description: 'DVCQG status 1–10' }),
  channel: Type.Integer({ description: '1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích' }),
  applicant: OpenObject('As submitted'),
  data: OpenObject("The procedure's form data, as submitted"),
  submittedAt: Timestamp,
  receivedAt: NullableTimestamp,
  appointmentAt: NullableTimestamp,
  pausedAt: NullableTimestamp,
  extendedAt: NullableTimestamp,
  deadlineState: Type.String({ description: 'on_track, due_soon, overdue while open; early, on_time, late once finished; none' }),
  supplementCount: Type.Integer(),
  lateSupplement: Type.Boolean(),
  returnMethod: NullableString,
  returnedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  updatedAt: Timestamp,
})

/** One line of the dossier's process record (nhật ký xử lý). */
const HistoryLine = Type.Object({
  id: Type.Integer(),
  task_id: NullableString,
  activity_id: NullableString,
  action: Type.String(),
  actor: Type.String(),
  status: NullableString,
  details: NullableOpenObject(),
  at: Timestamp,
})

/** One process instance of the dossier: its procedure's, or a called procedure's (linked to its caller). */
const InstanceLine = Type.Object({
  id: Type.String(),
  parentInstanceId: NullableString,
  callActivityId: NullableString,
  procedureCode: Type.String(),
  procedureVersion: Type.Integer(),
  status: Type.String({ description: 'running, completed, terminated' }),
  created: Timestamp,
})

const Submitted = Type.Object({ dossier: Dossier, tasks: Type.Array(Task, { description: 'The open tasks' }) })

export const submitDossierSchema = {
  tags: ['dossiers'],
  summary: 'Submit a dossier and start its procedure. Idempotency-Key makes retries safe.',
  headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
  body: SubmitBody,
  response: {
    201: { ...Submitted, description: 'Submitted: the dossier and its open tasks' },
    200: { ...Submitted, description: 'A replay of an earlier submission with the same Idempotency-Key and body' },
    ...errorResponses(
      AUTH,
      INPUT,
      JSON_BODY,
      'IDEMPOTENCY_KEY_INVALID',
      'FORBIDDEN',
      'PROCEDURE_NOT_FOUND',
      'CHANNEL_NOT_ALLOWED',
      'IDEMPOTENCY_KEY_REUSED',
      'POSTAL_HANDOVER_REQUIRED',
      STEP,
    ),
  },
}

export const extendDossierSchema = {
  tags: ['dossiers'],
  summary: 'Apology with a new appointment (Mẫu 04): once per dossier, ≥ 1 working day before the deadline',
  params: IdParam,
  body: Type.Object(
    { newAppointmentAt: Type.String({ format: 'date-time' }), reason: Type.String({ minLength: 5, maxLength: 2000 }) },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      dossierId: Type.String({ format: 'uuid' }),
      appointmentAt: Timestamp,
      previousAppointmentAt: Timestamp,
      extendedAt: Timestamp,
      reason: Type.String(),
    }),
    ...errorResponses(
      AUTH,
      INPUT,
      JSON_BODY,
      'FORBIDDEN',
      'DOSSIER_NOT_FOUND',
      'EXTENSION_NOT_ALLOWED',
      'EXTENSION_ALREADY_USED',
      'EXTENSION_TOO_LATE',
    ),
  },
}

export const getDossierSchema = {
  tags: ['dossiers'],
  summary: 'The dossier, its open tasks and its process record',
  params: IdParam,
  response: {
    200: Type.Object({
      dossier: Dossier,
      tasks: Type.Array(Task),
      history: Type.Array(HistoryLine),
      instances: Type.Array(InstanceLine, {
        description: "The dossier's process instances, callers first: its procedure's and those of the procedures it called",
      }),
    }),
    ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND'),
  },
}
