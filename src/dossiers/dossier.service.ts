import { createHash, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { requestFacts } from '../metrics/metrics.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import { canReadDossier } from '../auth/policy.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { InstanceRepository, InstanceRow } from '../records/instance.repository.ts'
import { transaction } from '../db/unit-of-work.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { ProcedureService } from '../procedures/procedure.service.ts'
import type { TaskRepository } from '../records/task.repository.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import { Channel, CHANNEL_NAME, DossierStatus, NATIONAL_STATUS } from '../records/statuses.ts'

export interface Applicant {
  name: string
  idNumber: string
  phone?: string
  email?: string
  address?: string
}

export interface SubmitInput {
  procedureCode: string
  applicant: Applicant
  channel: Channel
  data: Record<string, unknown>
  /** Public post (bưu chính công ích): the hand-over record (biên bản giao nhận) signed by the postal worker and the officer. */
  postal?: { handoverSignedAt?: string; waybill?: string; pickup?: true }
}

/** A dossier started by a message (POST /api/messages): at the message start event waiting for `messageName`. */
export interface MessageStart {
  messageName: string
}

export { canReadDossier }

/**
 * Dossier submission (nộp hồ sơ): creates the dossier with its code, starts the latest version of the
 * procedure and runs it to its first wait states, all in one transaction.
 */
/** JSON with object keys sorted at every level (input depth is bounded at the API). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(v) ?? 'null'
}

/**
 * A pickup by post, or a result the applicant chose to receive by post (`data.returnMethod = "post"`),
 * needs an address the postal worker can go to: `applicant.address`, or `data.postalAddress` for the result.
 */
function checkPostalAddress(input: SubmitInput, pickup: boolean): void {
  const has = (v: unknown) => typeof v === 'string' && v.trim().length >= 5
  if (pickup && !has(input.applicant.address))
    throw new AppError('VALIDATION_FAILED', 'Thu gom hồ sơ qua bưu chính cần địa chỉ của người nộp (applicant.address)', {
      path: '/applicant/address',
    })
  if (input.data.returnMethod === 'post' && !has(input.applicant.address) && !has(input.data.postalAddress))
    throw new AppError('VALIDATION_FAILED', 'Nhận kết quả qua bưu chính cần địa chỉ nhận (applicant.address hoặc data.postalAddress)', {
      path: '/data/postalAddress',
    })
}

/** `value` with `marker` replaced by `code` in every string (a task named after its dossier's code). */
function withCode<T>(value: T, marker: string, code: string): T {
  if (typeof value === 'string') return value.replaceAll(marker, code) as T
  if (Array.isArray(value)) return value.map((v) => withCode(v, marker, code)) as T
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withCode(v, marker, code)])) as T
  return value
}

export function createDossierService(deps: {
  db: Db
  clock: Clock
  log: Logger
  dossiers: DossierRepository
  instances: InstanceRepository
  tasks: TaskRepository
  history: HistoryRepository
  procedures: ProcedureService
  steps: StepRunner
}) {
  const { db, clock } = deps

  /** The same request in another key order is the same request: keys are sorted before hashing. */
  function requestHash(input: SubmitInput): string {
    return createHash('sha256')
      .update(canonicalJson([input.procedureCode, input.applicant, input.channel, input.data]))
      .digest('hex')
  }

  async function replay(principal: Principal, key: string, hash: string) {
    const existing = await deps.dossiers.findByIdempotencyKey(db, principal.userId, key).one()
    if (!existing) return null
    if (existing.request_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key đã được dùng cho một hồ sơ khác')
    return existing
  }

  async function view(d: DossierRow) {
    const [tasks, history, instances] = await Promise.all([
      deps.tasks.openForDossier(db, d.id).rows(),
      deps.history.forDossier(db, d.id).rows(),
      deps.instances.summaryForDossier(db, d.id).rows(),
    ])
    return { dossier: d, tasks, history, instances }
  }

  return {
    async submit(
      principal: Principal,
      input: SubmitInput,
      idempotencyKey?: string,
      byMessage?: MessageStart,
    ): Promise<{
      created: boolean
      dossier: DossierRow
      tasks: Awaited<ReturnType<typeof view>>['tasks']
      /** The new process instance, and whether it ended in its first step (a new submission only). */
      instanceId?: string
      ended?: boolean
    }> {
      if (!hasRole(principal, 'citizen', 'officer', 'admin'))
        throw new AppError('FORBIDDEN', 'Chỉ công dân hoặc cán bộ tiếp nhận được nộp hồ sơ')
      // A pickup by post (thu gom hồ sơ) is the applicant's own request: the paper dossier is still at home.
      const pickup = input.channel === Channel.POST && input.postal?.pickup === true
      if (hasRole(principal, 'citizen') && !hasRole(principal, 'officer', 'admin') && input.channel !== Channel.ONLINE && !pickup) {
        throw new AppError(
          'CHANNEL_NOT_ALLOWED',
          'Công dân chỉ nộp trực tuyến qua API (kênh 2); nộp trực tiếp và qua bưu chính do cán bộ tiếp nhận',
        )
      }
      const hash = requestHash(input)
      if (idempotencyKey) {
        const existing = await replay(principal, idempotencyKey, hash)
        if (existing) return { created: false, dossier: existing, tasks: (await view(existing)).tasks }
      }
      const version = await deps.procedures.latestVersion(input.procedureCode)
      const meta = version.metadata
      const startEvent = byMessage ? (version.message_starts?.[byMessage.messageName] ?? null) : null
      if (byMessage && !startEvent)
        throw new AppError('MESSAGE_NOT_CORRELATED', `Thủ tục ${meta.code} không còn bắt đầu bằng thông điệp "${byMessage.messageName}"`, {
          messageName: byMessage.messageName,
        })
      if (!meta.channels.includes(input.channel))
        throw new AppError('CHANNEL_NOT_ALLOWED', `Thủ tục ${meta.code} không nhận hồ sơ qua kênh ${input.channel}`, {
          allowed: meta.channels,
        })
      if (hasRole(principal, 'officer') && !hasRole(principal, 'admin', 'citizen') && meta.agency !== principal.agency) {
        throw new AppError('FORBIDDEN', 'Cán bộ chỉ tiếp nhận hồ sơ của cơ quan mình')
      }

      // A postal dossier counts as submitted when the hand-over record is signed (docs/domain.md#postal-submission-time).
      let submittedAt: Date | null = null
      checkPostalAddress(input, pickup)
      if (pickup) {
        // Submitted when the post hands it over at the counter: the pickup's `delivered` event sets it (postal-tracking.service.ts).
        if (input.postal?.handoverSignedAt)
          throw new AppError('VALIDATION_FAILED', 'Hồ sơ chờ bưu chính thu gom chưa có biên bản giao nhận (bỏ postal.handoverSignedAt)', {
            path: '/postal/handoverSignedAt',
          })
      } else if (input.channel === Channel.POST) {
        const signed = input.postal?.handoverSignedAt ? new Date(input.postal.handoverSignedAt) : null
        if (!signed || Number.isNaN(signed.getTime()))
          throw new AppError(
            'POSTAL_HANDOVER_REQUIRED',
            'Hồ sơ qua bưu chính cần thời điểm ký biên bản giao nhận (postal.handoverSignedAt)',
          )
        if (signed.getTime() > clock.now().getTime())
          throw new AppError('POSTAL_HANDOVER_REQUIRED', 'Thời điểm ký biên bản giao nhận không được ở tương lai')
        if (clock.now().getTime() - signed.getTime() > 30 * 86_400_000)
          throw new AppError('POSTAL_HANDOVER_REQUIRED', 'Biên bản giao nhận đã ký quá 30 ngày')
        submittedAt = signed
      }

      // The engine starts the instance before the transaction: no connection and no lock is held
      // while it runs. (`dossierCode` is not a process variable: the code is only taken at the end.)
      const now = clock.now()
      const ids = { dossier: randomUUID(), instance: randomUUID() }
      const feeAmount = meta.fees.reduce((sum, f) => sum + f.amount, 0)
      const variables = {
        ...input.data,
        channel: CHANNEL_NAME[input.channel],
        channelCode: input.channel,
        procedureCode: meta.code,
        submittedBy: principal.userId,
        initiator: principal.userId,
        feeAmount,
        serviceLevel: meta.level,
        // The skeleton's postal gateways read these (processes/lib/mot-cua.bpmn).
        postalPickup: pickup,
        returnMethod: typeof input.data.returnMethod === 'string' ? input.data.returnMethod : null,
        outcome: null,
        refused: false,
      }
      const started = await deps.steps.runEngine(null, { id: ids.instance, step_id: null }, version, {
        kind: 'start',
        variables,
        ...(startEvent ? { message: { messageId: startEvent.messageId, startEventId: startEvent.activityId } } : {}),
      })
      // With the skeleton's receipt check the officer decides later; a diagram without it accepts at the counter.
      const checksReceipt = Object.values(version.activity_statuses).includes(DossierStatus.RECEIVING)
      const initial =
        input.channel === Channel.ONLINE ? DossierStatus.SUBMITTED_ONLINE : checksReceipt ? DossierStatus.RECEIVING : DossierStatus.ACCEPTED

      try {
        return await transaction(db, async (uow) => {
          const tx = uow.tx
          // Gapless codes: the unit's daily counter row stays locked from its increment to the commit, and a
          // rollback gives the number back. So the number is taken last, in the commit's own message: the
          // step is written with a marker in place of the code, which the database replaces
          // (dossierRepository.assignCodes).
          const marker = `DVCCODE${randomUUID().replaceAll('-', '')}`
          const dossier: DossierRow = {
            id: ids.dossier,
            code: marker,
            unit_id: meta.unitId,
            procedure_code: meta.code,
            procedure_version_id: version.id,
            agency: meta.agency,
            status: initial,
            national_status: NATIONAL_STATUS[initial],
            channel: input.channel,
            applicant: { ...input.applicant },
            applicant_user_id: hasRole(principal, 'citizen') ? principal.userId : null,
            data: input.data,
            submitted_by: principal.userId,
            idempotency_key: idempotencyKey ?? null,
            request_hash: hash,
            submitted_at: submittedAt ?? now,
            finished_at: null,
            created_at: now,
            updated_at: now,
          }
          uow.write(deps.dossiers.insert(tx, dossier))
          uow.write(deps.instances.insert(tx, { id: ids.instance, dossier_id: dossier.id, procedure_version_id: version.id }, now))
          const instance: InstanceRow = {
            id: ids.instance,
            dossier_id: dossier.id,
            procedure_version_id: version.id,
            status: 'running',
            step_id: null,
            version: 0,
            error: null,
            created_at: now,
            updated_at: now,
          }
          // Created by this very step: nothing of it is stored yet, so nothing was read.
          const data = { instance, dossier, openTasks: [], pendingTimers: [], liveAlarms: [] }
          const outcome = await deps.steps.write({ uow, version, data }, started, {
            actor: principal.userId,
            now,
            fallbackStatus: null,
            history: [
              {
                dossier_id: dossier.id,
                action: 'dossier.submitted',
                actor: principal.userId,
                status: initial,
                details: {
                  channel: input.channel,
                  nationalStatus: NATIONAL_STATUS[initial],
                  procedureVersion: version.version,
                  ...(input.postal ? { postal: input.postal } : {}),
                  ...(byMessage ? { messageName: byMessage.messageName } : {}),
                },
                at: now,
              },
            ],
          })
          uow.write(deps.dossiers.assignCodes(tx))
          // The dossier as the step left it, read after its writes in the same message as the COMMIT.
          const stored = uow.read(deps.dossiers.find(tx, dossier.id))
          return uow.commitWith(() => {
            const code = stored.one()!.code
            // The step told the request's log line the marker: it gets the code.
            const facts = requestFacts.getStore()
            if (facts) facts.dossierCode = code
            return {
              created: true,
              dossier: stored.one()!,
              tasks: withCode(outcome.created, marker, code),
              instanceId: ids.instance,
              ended: started.ended,
            }
          })
        })
      } catch (err) {
        // Two retries of one submission raced: the loser returns the winner's dossier.
        if (idempotencyKey && (err as { code?: string }).code === '23505') {
          const existing = await replay(principal, idempotencyKey, hash)
          if (existing) return { created: false, dossier: existing, tasks: (await view(existing)).tasks }
        }
        throw err
      }
    },

    async get(principal: Principal, id: string) {
      const d = await deps.dossiers.find(db, id).one()
      if (!d || !canReadDossier(principal, d)) throw new AppError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${id}`)
      return view(d)
    },
  }
}
export type DossierService = ReturnType<typeof createDossierService>
