import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import { variablesLimits } from '../validation/input-rules.ts'
import { taskDto } from '../tasks/task.dto.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { DossierService } from './dossier.service.ts'
import type { ExtensionService } from '../deadlines/extension.service.ts'
import { STATUS_LABEL_VI, type DossierStatus } from '../records/statuses.ts'
import { dossierDeadlineView } from '../deadlines/outcome.ts'

export const SubmitBody = Type.Object({
  procedureCode: Type.String({ minLength: 1, maxLength: 64 }),
  applicant: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,20}$', description: 'Số định danh cá nhân / CCCD / mã số doanh nghiệp' }),
    phone: Type.Optional(Type.String({ pattern: '^[+0-9 ]{6,20}$' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
    address: Type.Optional(Type.String({ maxLength: 500 })),
  }, { additionalProperties: false }),
  channel: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)], { description: '1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích' }),
  data: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), { default: {}, ...variablesLimits }),
  postal: Type.Optional(Type.Object({
    handoverSignedAt: Type.String({ format: 'date-time', description: 'Thời điểm ký biên bản giao nhận hồ sơ với nhân viên bưu chính (= thời điểm nộp, docs/domain.md#postal-submission-time)' }),
    waybill: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$', description: 'Mã vận đơn' })),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

export function dossierDto(d: DossierRow) {
  return {
    id: d.id,
    code: d.code,
    procedureCode: d.procedure_code,
    agency: d.agency,
    status: d.status,
    statusLabel: STATUS_LABEL_VI[d.status as DossierStatus] ?? d.status,
    nationalStatus: d.national_status,
    channel: d.channel,
    applicant: d.applicant,
    data: d.data,
    submittedAt: d.submitted_at,
    receivedAt: d.received_at ?? null,
    appointmentAt: d.appointment_at ?? null,
    pausedAt: d.paused_at ?? null,
    extendedAt: d.extended_at ?? null,
    deadlineState: dossierDeadlineView(d),
    supplementCount: d.supplement_count ?? 0,
    lateSupplement: d.late_supplement ?? false,
    returnMethod: d.return_method ?? null,
    returnedAt: d.returned_at ?? null,
    finishedAt: d.finished_at,
    updatedAt: d.updated_at,
  }
}

/** Dossiers (hồ sơ): submission and the dossier view. */
export async function dossierRoutes(app: FastifyInstance, opts: { dossiers: DossierService; extensions: ExtensionService }) {
  app.post('/dossiers', {
    schema: {
      tags: ['dossiers'],
      summary: 'Submit a dossier and start its procedure. Idempotency-Key makes retries safe.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
      body: SubmitBody,
    },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key']
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(key))) {
      throw new AppError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key phải gồm 1–128 ký tự ASCII in được')
    }
    const body = req.body as import('./dossier.service.ts').SubmitInput
    const r = await opts.dossiers.submit(req.principal, body, key as string | undefined)
    return reply.status(r.created ? 201 : 200).send({ dossier: dossierDto(r.dossier), tasks: r.tasks.map(taskDto) })
  })

  app.post('/dossiers/:id/extension', {
    schema: {
      tags: ['dossiers'],
      summary: 'Apology with a new appointment (Mẫu 04): once per dossier, ≥ 1 working day before the deadline',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: Type.Object({ newAppointmentAt: Type.String({ format: 'date-time' }), reason: Type.String({ minLength: 5, maxLength: 2000 }) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const body = req.body as { newAppointmentAt: string; reason: string }
    return opts.extensions.extend(req.principal, (req.params as { id: string }).id, { newAppointmentAt: new Date(body.newAppointmentAt), reason: body.reason })
  })

  app.get('/dossiers/:id', { schema: { tags: ['dossiers'], params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (req) => {
    const { id } = req.params as { id: string }
    const v = await opts.dossiers.get(req.principal, id)
    return { dossier: dossierDto(v.dossier), tasks: v.tasks.map(taskDto), history: v.history }
  })
}
