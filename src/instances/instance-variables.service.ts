import type { Static } from '@fastify/type-provider-typebox'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { Principal } from '../auth/principal.ts'
import { authorize, canReadDossier, dossierResource } from '../auth/policy.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { InstanceVariablesRepository } from './instance-variables.repository.ts'
import type { ModifyVariablesBody, VariableType } from './instance-variables.schemas.ts'

export type VariableModifications = Static<typeof ModifyVariablesBody>

/** Names the engine keeps for itself in a process's variables: never a dossier's data. */
const RESERVED = new Set(['fields', 'content', 'properties'])

const INT_RANGE: Partial<Record<VariableType, [number, number]>> = {
  Short: [-32768, 32767],
  Integer: [-2147483648, 2147483647],
  Long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
}

/** Why a value does not fit its declared Camunda 7 type, or null. */
function typeMismatch(value: unknown, type: VariableType | undefined): string | null {
  if (value === undefined) return 'thiếu giá trị (value)'
  if (!type || type === 'Json' || type === 'Object') return null
  if (type === 'Null') return value === null ? null : 'kiểu Null chỉ nhận giá trị null'
  if (value === null) return null
  if (type === 'String') return typeof value === 'string' ? null : 'phải là chuỗi'
  if (type === 'Boolean') return typeof value === 'boolean' ? null : 'phải là true hoặc false'
  if (type === 'Double') return typeof value === 'number' && Number.isFinite(value) ? null : 'phải là số'
  if (type === 'Date')
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value))
      ? null
      : 'phải là ngày giờ ISO 8601 (ví dụ 2026-12-01T08:00:00+07:00)'
  const range = INT_RANGE[type]!
  return typeof value === 'number' && Number.isInteger(value) && value >= range[0] && value <= range[1]
    ? null
    : `phải là số nguyên kiểu ${type} (từ ${range[0]} đến ${range[1]})`
}

/**
 * POST /api/process-instances/:id/variables (Camunda 7 `POST /process-instance/{id}/variables`):
 * officers of the dossier's agency and admins set and delete process variables of a running
 * instance. The change, its history line (`process.variables_modified`, names only) and the engine
 * step it implies (the conditional events that listen for it are evaluated again) are one transaction.
 */
export function createInstanceVariablesService(deps: { db: Db; clock: Clock; repo: InstanceVariablesRepository; steps: StepRunner }) {
  const { db, clock } = deps
  const notFound = (id: string) =>
    new AppError('PROCESS_INSTANCE_NOT_FOUND', 'Không tìm thấy quy trình đang chạy của hồ sơ', { processInstanceId: id })

  function validate(body: VariableModifications): { set: Record<string, unknown>; deleted: string[] } {
    const set: Record<string, unknown> = {}
    const deleted = body.deletions ?? []
    for (const [name, v] of Object.entries(body.modifications ?? {})) {
      const why = RESERVED.has(name)
        ? 'tên này dành riêng cho bộ máy quy trình'
        : deleted.includes(name)
          ? 'biến vừa được đặt vừa bị xoá trong cùng một yêu cầu'
          : typeMismatch(v.value, v.type)
      if (why) throw new AppError('VARIABLE_VALUE_INVALID', `Biến "${name}": ${why}`, { name, type: v.type ?? null })
      set[name] = v.value
    }
    for (const name of deleted)
      if (RESERVED.has(name))
        throw new AppError('VARIABLE_VALUE_INVALID', `Biến "${name}": tên này dành riêng cho bộ máy quy trình`, { name, type: null })
    return { set, deleted }
  }

  return {
    async modify(p: Principal, instanceId: string, body: VariableModifications) {
      const { set, deleted } = validate(body)
      const found = await deps.repo.find(db, instanceId).one()
      // An instance whose dossier the caller may not read is not there for them.
      if (!found || !canReadDossier(p, found)) throw notFound(instanceId)
      authorize('instance.variables', p, dossierResource(found))
      if (found.status !== 'running') throw notFound(instanceId)
      const now = clock.now()
      return transaction(db, async (uow) => {
        const locked = await deps.steps.lock(uow, { dossier: found.dossier_id })
        const data = locked.dataFor(instanceId)
        if (!data || data.instance.status !== 'running') throw notFound(instanceId)
        const version = await deps.steps.version(uow.tx, data.instance)
        const out = await deps.steps.step(
          { uow, version, data },
          { kind: 'setVariables', modifications: set, deletions: deleted },
          {
            actor: p.userId,
            now,
            fallbackStatus: null,
            history: [
              {
                dossier_id: found.dossier_id,
                action: 'process.variables_modified',
                actor: p.userId,
                // Variable names only: their values may hold personal data.
                details: { processInstanceId: instanceId, modified: Object.keys(set).sort(), deleted: [...deleted].sort() },
                at: now,
              },
            ],
          },
        )
        return uow.commit({
          processInstanceId: instanceId,
          dossierId: found.dossier_id,
          dossierStatus: out.status,
          processEnded: out.result.ended,
          openTasks: out.open.map((t) => ({ id: t.id, activityId: t.activity_id, name: t.name })),
        })
      })
    },
  }
}
export type InstanceVariablesService = ReturnType<typeof createInstanceVariablesService>
