import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize } from '../auth/policy.ts'
import type { DossierService, SubmitInput } from '../dossiers/dossier.service.ts'
import type { ProcedureService } from '../procedures/procedure.service.ts'
import { latestMessageStarts } from '../procedures/message-starts.ts'
import { Channel } from '../records/statuses.ts'

/** Checks a submission body as POST /api/dossiers does (its schema, with the same validator); throws VALIDATION_FAILED. */
export type SubmissionCheck = (body: Record<string, unknown>) => void

/** Camunda 7's result of a message that started a process instance (`resultType: ProcessDefinition`). */
export interface StartResult {
  resultType: 'ProcessDefinition'
  processInstance: { id: string; businessKey: string; definitionId: string; ended: boolean }
  dossierId: string
  dossierStatus: string
}

/**
 * Message start events of a procedure (sự kiện bắt đầu bằng thông điệp): a message with no dossier
 * named (no businessKey, processInstanceId or correlationKeys) whose name a procedure's latest
 * version starts by creates a new dossier of that procedure, started at that start event. The
 * dossier is what POST /api/dossiers would create from the same data: `processVariables.applicant`
 * is the applicant, `channel` and `postal` (optional: by default the counter, or online for a
 * citizen) the channel, every other variable the dossier's data, all checked by the submission's
 * own schema; the code, appointment and receipt follow the same rules.
 */
export function createMessageStarts(deps: { db: Db; dossiers: DossierService; procedures: ProcedureService }) {
  return {
    /** The procedure a message starts, when the message names no dossier. */
    async target(m: { messageName: string; businessKey?: string; processInstanceId?: string; correlationKeys?: object }) {
      if (m.businessKey !== undefined || m.processInstanceId !== undefined || m.correlationKeys !== undefined) return null
      return (await latestMessageStarts(deps.db, [m.messageName]))[0] ?? null
    },

    async start(
      p: Principal,
      procedureCode: string,
      m: { messageName: string; processVariables?: Record<string, unknown> },
      check: SubmissionCheck,
    ): Promise<StartResult> {
      const version = await deps.procedures.latestVersion(procedureCode)
      authorize('message.start', p, { agency: version.metadata.agency })
      const { applicant, channel, postal, ...data } = m.processVariables ?? {}
      const citizen = hasRole(p, 'citizen') && !hasRole(p, 'officer', 'admin')
      const body: Record<string, unknown> = {
        procedureCode,
        applicant,
        channel: channel ?? (citizen ? Channel.ONLINE : Channel.COUNTER),
        data,
        ...(postal !== undefined ? { postal } : {}),
      }
      if (applicant === undefined)
        throw new AppError('VALIDATION_FAILED', 'Dữ liệu không hợp lệ: processVariables.applicant (người nộp hồ sơ) là bắt buộc', [
          { path: '/processVariables/applicant', message: "must have required property 'applicant'" },
        ])
      check(body)
      const r = await deps.dossiers.submit(p, body as unknown as SubmitInput, undefined, { messageName: m.messageName })
      return {
        resultType: 'ProcessDefinition',
        processInstance: {
          id: r.instanceId!,
          businessKey: r.dossier.code,
          definitionId: `${version.procedure_code}:${version.version}`,
          ended: r.ended ?? false,
        },
        dossierId: r.dossier.id,
        dossierStatus: r.dossier.status,
      }
    },
  }
}
export type MessageStarts = ReturnType<typeof createMessageStarts>
