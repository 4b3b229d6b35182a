import type { Db, Tx } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import { AppError } from '../errors.ts'
import { type Principal } from '../auth/principal.ts'
import { allows, authorize, canReadDossier, dossierResource, SUBJECTS, taskResource } from '../auth/policy.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import { DossierStatus, FINAL_STATUSES } from '../records/statuses.ts'
import type { DocumentRepository } from '../documents/document.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import { transaction, UnitOfWork } from '../db/unit-of-work.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { StepData } from '../steps/lock.ts'
import { stepActions } from '../steps/return-step.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { TaskRepository } from '../records/task.repository.ts'
import type { TaskService } from '../tasks/task.service.ts'
import { ACTION_HISTORY, parseActionBody, type LifecycleAction } from './actions.ts'
import type { CitizenNotices } from '../notifications/citizen-notices.ts'

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
  tasks: TaskRepository
  taskService: TaskService
  versions: ProcedureVersionCache
  history: HistoryRepository
  documents: DocumentRepository
  steps: StepRunner
  /** The applicant's messages (the supplement request carries its items and reason). */
  notices?: CitizenNotices
}) {
  const { db, clock } = deps

  async function readable(p: Principal, id: string): Promise<DossierRow> {
    const d = await deps.dossiers.find(db, id).one()
    if (!d || !canReadDossier(p, d)) throw new AppError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${id}`)
    return d
  }

  async function openActions(p: Principal, d: DossierRow) {
    const version = await deps.versions.get(db, d.procedure_version_id)
    const open = await deps.tasks.openForDossier(db, d.id).rows()
    return {
      version,
      offers: open.flatMap((t) =>
        stepActions(version.user_tasks, t.activity_id).map((action) => ({
          action: action as LifecycleAction,
          task: t,
          mine: allows('dossier.act', p, taskResource(t)),
        })),
      ),
    }
  }

  function supplementDetails(version: ProcedureVersionRow, d: DossierRow, items: string[], now: Date) {
    const published = new Map(version.metadata.documents.map((doc) => [doc.code, doc.name]))
    const unknown = items.filter((i) => !published.has(i))
    if (unknown.length) {
      throw new AppError(
        'SUPPLEMENT_ITEMS_INVALID',
        `Chỉ được yêu cầu bổ sung giấy tờ trong danh mục đã công bố của thủ tục; không có: ${unknown.join(', ')}`,
        { unknown, allowed: [...published.keys()] },
      )
    }
    const stage = stageOf(d)
    const cal = deps.calendar()
    const late =
      stage === 'appraisal' && cal.workingMinutesBetween(new Date(d.received_at!), now) > SUPPLEMENT_WINDOW_WORKING_DAYS * cal.minutesPerDay
    return { stage, late, items: items.map((code) => ({ code, name: published.get(code)! })) }
  }

  async function assertResultAttached(d: DossierRow): Promise<void> {
    if ((await deps.documents.count(db, d.id, 'result')) === 0) {
      throw new AppError('RESULT_DOCUMENT_REQUIRED', 'Trả kết quả trực tuyến cần đính kèm bản điện tử của kết quả (tài liệu loại "result")')
    }
  }

  /** Locks the dossier's step and finds its running instance: the one a message or an ending applies to. */
  async function lockRunning(
    uow: UnitOfWork,
    dossierId: string,
  ): Promise<{ data: StepData; version: ProcedureVersionRow; called: Array<{ data: StepData; version: ProcedureVersionRow }> }> {
    const locked = await deps.steps.lock(uow, { dossier: dossierId })
    const dossier = locked.dossiers[0]!
    // A process that ended before the return keeps its dossier open until the return step (docs/lifecycle.md).
    // The dossier's own procedure: a called procedure's instance (parent_instance_id) ends with it.
    const own = locked.instances.filter((i) => !i.parent_instance_id)
    const running =
      own.find((i) => i.status === 'running') ??
      (FINAL_STATUSES.has(dossier.status as DossierStatus) ? undefined : own.find((i) => i.status === 'completed'))
    if (!running) throw new AppError('DOSSIER_CLOSED', 'Hồ sơ đã kết thúc xử lý', { status: dossier.status })
    // The running instances of called procedures, deepest first: where the work goes on while their callers wait.
    const called = locked.instances
      .filter((i) => i.parent_instance_id && i.status === 'running')
      .sort((a, b) => (b.call_depth ?? 0) - (a.call_depth ?? 0))
    return {
      data: locked.dataFor(running.id)!,
      version: await deps.steps.version(uow.tx, running),
      called: await Promise.all(called.map(async (i) => ({ data: locked.dataFor(i.id)!, version: await deps.steps.version(uow.tx, i) }))),
    }
  }

  return {
    /** What the caller can do on the dossier now (for the officer's screen). */
    async available(p: Principal, dossierId: string) {
      const d = await readable(p, dossierId)
      const { offers } = await openActions(p, d)
      return offers
        .filter((o) => o.mine)
        .map((o) => ({ action: o.action, taskId: o.task.id, taskName: o.task.name, activityId: o.task.activity_id }))
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
        throw new AppError(
          'ACTION_NOT_AVAILABLE',
          `Thao tác "${action}" không thực hiện được ở trạng thái hiện tại của hồ sơ hoặc không thuộc nhóm của bạn`,
          { status: d.status, available: offers.filter((o) => o.mine).map((o) => o.action) },
        )
      }
      const variables: Record<string, unknown> = { outcome: action }
      let details: Record<string, unknown> = { ...body }
      if (action === 'request-supplement') supplementDetails(version, d, body.items as string[], clock.now()) // validate before taking locks
      if (action === 'refuse') {
        variables.refused = true
        details.stage = stageOf(d)
      }
      if (action === 'request-financial-obligation') variables.obligationAmount = body.amount
      if (action === 'consult') variables.consultedUnit = body.unit
      if (action === 'return') {
        if (body.method === 'post' && !body.waybill)
          throw new AppError('VALIDATION_FAILED', 'Trả kết quả qua bưu chính cần mã vận đơn (waybill)', { path: '/waybill' })
        if (body.method === 'online') await assertResultAttached(d)
        variables.returnMethod = body.method
      }
      const r = await deps.taskService.complete(p, offer.task.id, variables, {
        before: (uow, { dossier, now }): HistoryEntry[] => {
          if (action === 'request-supplement') {
            // Re-checked under the lock: the lateness flag counts from the receipt instant.
            const s = supplementDetails(version, dossier, body.items as string[], now)
            details = { ...details, ...s }
            uow.write(
              deps.dossiers.updateLifecycle(uow.tx, dossier.id, {
                supplement_count: (dossier.supplement_count ?? 0) + 1,
                late_supplement: (dossier.late_supplement ?? false) || s.late,
              }),
            )
          }
          return [
            {
              dossier_id: dossier.id,
              task_id: offer.task.id,
              activity_id: offer.task.activity_id,
              action: ACTION_HISTORY[action],
              actor: p.userId,
              details,
              at: now,
            },
          ]
        },
        after:
          action === 'return'
            ? (uow, { dossier, now }) => {
                uow.write(deps.dossiers.updateLifecycle(uow.tx, dossier.id, { return_method: body.method as string, returned_at: now }))
              }
            : action === 'request-supplement' && deps.notices
              ? (uow, { dossier, now }) =>
                  deps.notices!.queue(uow, dossier, 'supplement_request', {
                    sequence: (dossier.supplement_count ?? 0) + 1,
                    data: {
                      procedureName: version.metadata.name,
                      items: details.items as [],
                      reason: body.reason as string,
                      deadlineAt: null,
                    },
                    now,
                  })
              : undefined,
      })
      return r
    },

    /**
     * Delivers a BPMN message to the dossier's instance in the caller's transaction (payment
     * received, supplement submitted): the diagram's catch event completes and the process moves on.
     */
    async deliver(
      tx: Tx,
      dossierId: string,
      message: string,
      opts: { actor: string; now: Date; history: Omit<HistoryEntry, 'dossier_id' | 'at'>[] },
    ) {
      const uow = new UnitOfWork(tx)
      const own = await lockRunning(uow, dossierId)
      const { data } = own
      // A called procedure (a call activity's own instance) may be the one that waits: tried first.
      const candidates = [...own.called, own].filter((c) => c.version.message_catches?.[message])
      if (!candidates.length) throw new AppError('NOT_WAITING_FOR_MESSAGE', `Quy trình của hồ sơ không có bước chờ "${message}"`)
      for (const [i, c] of candidates.entries()) {
        const target = c.version.message_catches[message]!
        try {
          const outcome = await deps.steps.step(
            { uow, version: c.version, data: c.data },
            { kind: 'message', messageId: target.messageId, activityIds: target.activityIds },
            {
              actor: opts.actor,
              now: opts.now,
              fallbackStatus: null,
              history: opts.history.map((h) => ({ ...h, dossier_id: dossierId, at: opts.now })),
            },
          )
          await uow.flush()
          return outcome
        } catch (err) {
          // Nothing of this instance waits for it (the engine said so before anything was written): the next one.
          if (i < candidates.length - 1 && err instanceof AppError && err.code === 'MESSAGE_NOT_CORRELATED') continue
          if (err instanceof AppError && (err.code === 'PROCESS_STEP_FAILED' || err.code === 'MESSAGE_NOT_CORRELATED'))
            throw new AppError('NOT_WAITING_FOR_MESSAGE', `Hồ sơ hiện không chờ "${message}"`, { status: data.dossier.status })
          throw err
        }
      }
      throw new AppError('NOT_WAITING_FOR_MESSAGE', `Hồ sơ hiện không chờ "${message}"`, { status: data.dossier.status })
    },

    /** The applicant hands in the requested items (nộp bổ sung): online by the citizen, or at the counter by an officer. */
    async submitSupplement(p: Principal, dossierId: string, body: { note?: string; documentIds?: string[] }) {
      const d = await readable(p, dossierId)
      authorize('dossier.supplement', p, dossierResource(d))
      if (d.status !== DossierStatus.SUPPLEMENT_REQUESTED)
        throw new AppError('ACTION_NOT_AVAILABLE', 'Hồ sơ không ở trạng thái chờ bổ sung', { status: d.status })
      const docs = body.documentIds ?? []
      for (const id of docs)
        if (!(await deps.documents.find(db, d.id, id))) throw new AppError('DOCUMENT_NOT_FOUND', `Không tìm thấy tài liệu ${id} của hồ sơ`)
      const now = clock.now()
      const out = await db.transaction((tx) =>
        this.deliver(tx, d.id, 'SupplementSubmitted', {
          actor: p.userId,
          now,
          history: [{ action: 'lifecycle.supplement_submitted', actor: p.userId, details: { note: body.note ?? null, documentIds: docs } }],
        }),
      )
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
          throw new AppError(
            'WITHDRAWAL_REQUEST_REQUIRED',
            'Cán bộ rút hồ sơ thay người nộp phải đính kèm đơn đề nghị rút hồ sơ của người nộp (requestDocumentId: tài liệu đã tải lên hồ sơ)',
            { path: '/requestDocumentId' },
          )
        }
        details.requestDocumentId = doc.id
      }
      const to = kind === 'withdraw' ? DossierStatus.WITHDRAWN : DossierStatus.STOPPED
      const now = clock.now()
      await transaction(db, async (uow) => {
        const { data, version } = await lockRunning(uow, d.id)
        if (FINAL_STATUSES.has(data.dossier.status as DossierStatus))
          throw new AppError('DOSSIER_CLOSED', 'Hồ sơ đã kết thúc', { status: data.dossier.status })
        await deps.steps.terminate({ uow, version, data }, to, {
          actor: p.userId,
          now,
          history: [
            {
              dossier_id: d.id,
              action: kind === 'withdraw' ? 'lifecycle.withdrawn' : 'lifecycle.stopped',
              actor: p.userId,
              details,
              at: now,
            },
          ],
        })
        return uow.finish(undefined)
      })
      return { dossierId: d.id, dossierStatus: to }
    },
  }
}
export type LifecycleService = ReturnType<typeof createLifecycleService>
