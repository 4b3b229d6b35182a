import type { Db, Tx } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import { AppError } from '../errors.ts'
import { type Principal } from '../auth/principal.ts'
import { allows, authorize, canReadDossier, dossierResource, SUBJECTS, taskResource } from '../auth/policy.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import { DossierStatus, FINAL_STATUSES } from '../dossiers/statuses.ts'
import type { DocumentRepository } from '../documents/document.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../history/history.repository.ts'
import type { InstanceRepository } from '../instances/instance.repository.ts'
import type { InstanceService } from '../instances/instance.service.ts'
import { stepActions } from '../instances/return-step.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { TaskRepository } from '../tasks/task.repository.ts'
import type { TaskService } from '../tasks/task.service.ts'
import { ACTION_HISTORY, parseActionBody, type LifecycleAction } from './actions.ts'

/** Receipt until the dossier is accepted (it has a receipt instant), appraisal after. */
const stageOf = (d: DossierRow) => (d.received_at ? 'appraisal' : 'receipt')

/** docs/domain.md#late-supplement: a supplement requested after appraisal later than this many working days after receipt is flagged. */
const SUPPLEMENT_WINDOW_WORKING_DAYS = 3

/**
 * The one-stop lifecycle (quy trình một cửa) as API actions. Officers' actions complete the open task
 * that offers them in the diagram; the applicant's (supplement, payment) are BPMN messages; withdrawal
 * and stop end the instance from outside. Every action is checked against the state and the caller's
 * role, and recorded in history in the same transaction as the step.
 */
export function createLifecycleService(deps: {
  db: Db
  clock: Clock
  calendar: () => WorkingCalendar
  dossiers: DossierRepository
  instances: InstanceRepository
  tasks: TaskRepository
  taskService: TaskService
  versions: ProcedureVersionCache
  history: HistoryRepository
  documents: DocumentRepository
  instanceService: InstanceService
}) {
  const { db, clock } = deps

  async function readable(p: Principal, id: string): Promise<DossierRow> {
    const d = await deps.dossiers.find(db, id)
    if (!d || !canReadDossier(p, d)) throw new AppError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${id}`)
    return d
  }

  async function openActions(p: Principal, d: DossierRow) {
    const version = await deps.versions.get(db, d.procedure_version_id)
    const open = await deps.tasks.openForDossier(db, d.id)
    return {
      version,
      offers: open.flatMap((t) => stepActions(version.user_tasks, t.activity_id).map((action) => ({ action: action as LifecycleAction, task: t, mine: allows('dossier.act', p, taskResource(t)) }))),
    }
  }

  function supplementDetails(version: ProcedureVersionRow, d: DossierRow, items: string[], now: Date) {
    const published = new Map(version.metadata.documents.map((doc) => [doc.code, doc.name]))
    const unknown = items.filter((i) => !published.has(i))
    if (unknown.length) {
      throw new AppError('SUPPLEMENT_ITEMS_INVALID', `Chỉ được yêu cầu bổ sung giấy tờ trong danh mục đã công bố của thủ tục; không có: ${unknown.join(', ')}`, { unknown, allowed: [...published.keys()] })
    }
    const stage = stageOf(d)
    const cal = deps.calendar()
    const late = stage === 'appraisal' && cal.workingMinutesBetween(new Date(d.received_at!), now) > SUPPLEMENT_WINDOW_WORKING_DAYS * cal.minutesPerDay
    return { stage, late, items: items.map((code) => ({ code, name: published.get(code)! })) }
  }

  async function assertResultAttached(d: DossierRow): Promise<void> {
    if (await deps.documents.count(db, d.id, 'result') === 0) {
      throw new AppError('RESULT_DOCUMENT_REQUIRED', 'Trả kết quả trực tuyến cần đính kèm bản điện tử của kết quả (tài liệu loại "result")')
    }
  }

  /** Finds the running instance of a dossier and runs `fn` with it, the version and the dossier locked. */
  async function withLockedInstance<T>(tx: Tx, dossierId: string, fn: (ctx: { instance: NonNullable<Awaited<ReturnType<InstanceRepository['lock']>>>; version: ProcedureVersionRow; dossier: DossierRow }) => Promise<T>): Promise<T> {
    await deps.instances.lockForDossier(tx, dossierId)
    const all = await deps.instances.byDossier(tx, dossierId)
    const dossier = (await deps.dossiers.lock(tx, dossierId))!
    // A process that ended before the return keeps its dossier open until the return step (docs/lifecycle.md).
    const running = all.find((i) => i.status === 'running') ?? (FINAL_STATUSES.has(dossier.status as DossierStatus) ? undefined : all.find((i) => i.status === 'completed'))
    if (!running) throw new AppError('DOSSIER_CLOSED', 'Hồ sơ đã kết thúc xử lý', { status: dossier.status })
    const instance = (await deps.instances.lock(tx, running.id))!
    const version = await deps.versions.get(tx, instance.procedure_version_id)
    return fn({ instance, version, dossier })
  }

  return {
    /** What the caller can do on the dossier now (for the officer's screen). */
    async available(p: Principal, dossierId: string) {
      const d = await readable(p, dossierId)
      const { offers } = await openActions(p, d)
      return offers.filter((o) => o.mine).map((o) => ({ action: o.action, taskId: o.task.id, taskName: o.task.name, activityId: o.task.activity_id }))
    },

    async act(p: Principal, dossierId: string, action: LifecycleAction, rawBody: unknown) {
      const body = parseActionBody(action, rawBody)
      const d = await readable(p, dossierId)
      const { version, offers } = await openActions(p, d)
      const offer = offers.find((o) => o.action === action && o.mine)
      // Offered now, but by a task of another group: the caller may not; not offered at all: wrong state.
      const offered = offers.find((o) => o.action === action)
      if (!offer && offered) authorize('dossier.act', p, taskResource(offered.task))
      if (!offer) {
        throw new AppError('ACTION_NOT_AVAILABLE', `Thao tác "${action}" không thực hiện được ở trạng thái hiện tại của hồ sơ hoặc không thuộc nhóm của bạn`, { status: d.status, available: offers.filter((o) => o.mine).map((o) => o.action) })
      }
      const variables: Record<string, unknown> = { outcome: action }
      let details: Record<string, unknown> = { ...body }
      if (action === 'request-supplement') supplementDetails(version, d, body.items as string[], clock.now()) // validate before taking locks
      if (action === 'refuse') { variables.refused = true; details.stage = stageOf(d) }
      if (action === 'request-financial-obligation') variables.obligationAmount = body.amount
      if (action === 'consult') variables.consultedUnit = body.unit
      if (action === 'return') {
        if (body.method === 'post' && !body.waybill) throw new AppError('VALIDATION_FAILED', 'Trả kết quả qua bưu chính cần mã vận đơn (waybill)', { path: '/waybill' })
        if (body.method === 'online') await assertResultAttached(d)
        variables.returnMethod = body.method
      }
      const r = await deps.taskService.complete(p, offer.task.id, variables, {
        before: async (tx, { dossier, now }): Promise<HistoryEntry[]> => {
          if (action === 'request-supplement') {
            // Re-checked under the lock: the lateness flag counts from the receipt instant.
            const s = supplementDetails(version, dossier, body.items as string[], now)
            details = { ...details, ...s }
            await tx('dossiers').where({ id: dossier.id }).update({ supplement_count: (dossier.supplement_count ?? 0) + 1, late_supplement: (dossier.late_supplement ?? false) || s.late })
          }
          return [{ dossier_id: dossier.id, task_id: offer.task.id, activity_id: offer.task.activity_id, action: ACTION_HISTORY[action], actor: p.userId, details, at: now }]
        },
        after: action === 'return'
          ? async (tx, { dossier, now }) => { await tx('dossiers').where({ id: dossier.id }).update({ return_method: body.method, returned_at: now }) }
          : undefined,
      })
      return r
    },

    /**
     * Delivers a BPMN message to the dossier's instance in the caller's transaction (payment
     * received, supplement submitted): the diagram's catch event completes and the process moves on.
     */
    async deliver(tx: Tx, dossierId: string, message: string, opts: { actor: string; now: Date; history: Omit<HistoryEntry, 'dossier_id' | 'at'>[] }) {
      return withLockedInstance(tx, dossierId, async ({ instance, version, dossier }) => {
        const target = version.message_catches?.[message]
        if (!target) throw new AppError('NOT_WAITING_FOR_MESSAGE', `Quy trình của hồ sơ không có bước chờ "${message}"`)
        try {
          return await deps.instanceService.step(tx, { instance, version, dossier }, { kind: 'message', messageId: target.messageId, activityIds: target.activityIds }, {
            actor: opts.actor,
            now: opts.now,
            history: opts.history.map((h) => ({ ...h, dossier_id: dossier.id, at: opts.now })),
          })
        } catch (err) {
          if (err instanceof AppError && err.code === 'PROCESS_STEP_FAILED') throw new AppError('NOT_WAITING_FOR_MESSAGE', `Hồ sơ hiện không chờ "${message}"`, { status: dossier.status })
          throw err
        }
      })
    },

    /** The applicant hands in the requested items (nộp bổ sung): online by the citizen, or at the counter by an officer. */
    async submitSupplement(p: Principal, dossierId: string, body: { note?: string; documentIds?: string[] }) {
      const d = await readable(p, dossierId)
      authorize('dossier.supplement', p, dossierResource(d))
      if (d.status !== DossierStatus.SUPPLEMENT_REQUESTED) throw new AppError('ACTION_NOT_AVAILABLE', 'Hồ sơ không ở trạng thái chờ bổ sung', { status: d.status })
      const docs = body.documentIds ?? []
      for (const id of docs) if (!(await deps.documents.find(db, d.id, id))) throw new AppError('DOCUMENT_NOT_FOUND', `Không tìm thấy tài liệu ${id} của hồ sơ`)
      const now = clock.now()
      const out = await db.transaction((tx) => this.deliver(tx, d.id, 'SupplementSubmitted', { actor: p.userId, now, history: [{ action: 'lifecycle.supplement_submitted', actor: p.userId, details: { note: body.note ?? null, documentIds: docs } }] }))
      return { dossierId: d.id, dossierStatus: out.status, nextTasks: out.open }
    },

    /** Withdrawal by the applicant (rút hồ sơ, status 7) or stop of the processing (dừng xử lý, status 8). */
    async end(p: Principal, dossierId: string, kind: 'withdraw' | 'stop', reason: string, evidence: { requestDocumentId?: string } = {}) {
      const d = await readable(p, dossierId)
      authorize(kind === 'withdraw' ? 'dossier.withdraw' : 'dossier.stop', p, dossierResource(d))
      const details: Record<string, unknown> = { reason }
      if (kind === 'withdraw' && !SUBJECTS.applicant(p, dossierResource(d))) {
        // Not the applicant: the applicant's written request must be on the dossier.
        const doc = evidence.requestDocumentId ? await deps.documents.find(db, d.id, evidence.requestDocumentId) : null
        if (!doc || doc.kind === 'result') {
          throw new AppError('WITHDRAWAL_REQUEST_REQUIRED', 'Cán bộ rút hồ sơ thay người nộp phải đính kèm đơn đề nghị rút hồ sơ của người nộp (requestDocumentId: tài liệu đã tải lên hồ sơ)', { path: '/requestDocumentId' })
        }
        details.requestDocumentId = doc.id
      }
      const to = kind === 'withdraw' ? DossierStatus.WITHDRAWN : DossierStatus.STOPPED
      const now = clock.now()
      await db.transaction(async (tx) => withLockedInstance(tx, d.id, async (ctx) => {
        if (FINAL_STATUSES.has(ctx.dossier.status as DossierStatus)) throw new AppError('DOSSIER_CLOSED', 'Hồ sơ đã kết thúc', { status: ctx.dossier.status })
        await deps.instanceService.terminate(tx, ctx, to, {
          actor: p.userId,
          now,
          history: [{ dossier_id: d.id, action: kind === 'withdraw' ? 'lifecycle.withdrawn' : 'lifecycle.stopped', actor: p.userId, details, at: now }],
        })
      }))
      return { dossierId: d.id, dossierStatus: to }
    },
  }
}
export type LifecycleService = ReturnType<typeof createLifecycleService>
