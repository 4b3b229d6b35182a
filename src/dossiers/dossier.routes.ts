import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import { taskDto } from '../tasks/task.dto.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { DossierService } from './dossier.service.ts'
import type { ExtensionService } from '../deadlines/extension.service.ts'
import { STATUS_LABEL_VI, type DossierStatus } from '../records/statuses.ts'
import { dossierDeadlineView } from '../deadlines/outcome.ts'
import { extendDossierSchema, getDossierSchema, submitDossierSchema } from './dossier.schemas.ts'

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
export async function dossierRoutes(app: Api, opts: { dossiers: DossierService; extensions: ExtensionService }) {
  app.post('/dossiers', { schema: submitDossierSchema }, async (req, reply) => {
    const key = req.headers['idempotency-key']
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(key))) {
      throw new AppError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key phải gồm 1–128 ký tự ASCII in được')
    }
    const r = await opts.dossiers.submit(req.principal, req.body, key)
    return reply.status(r.created ? 201 : 200).send({ dossier: dossierDto(r.dossier), tasks: r.tasks.map(taskDto) })
  })

  app.post('/dossiers/:id/extension', { schema: extendDossierSchema }, async (req) => {
    return opts.extensions.extend(req.principal, req.params.id, {
      newAppointmentAt: new Date(req.body.newAppointmentAt),
      reason: req.body.reason,
    })
  })

  app.get('/dossiers/:id', { schema: getDossierSchema }, async (req) => {
    const v = await opts.dossiers.get(req.principal, req.params.id)
    return {
      dossier: dossierDto(v.dossier),
      tasks: v.tasks.map(taskDto),
      history: v.history,
      instances: v.instances.map((i) => ({
        id: i.id,
        parentInstanceId: i.parent_instance_id,
        callActivityId: i.parent_activity_id,
        procedureCode: i.procedure_code,
        procedureVersion: Number(i.procedure_version),
        status: i.status,
        created: i.created_at,
      })),
    }
  })
}
