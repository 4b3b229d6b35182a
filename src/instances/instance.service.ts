import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/knex.ts'
import { StatementBatch, type Compilable } from '../db/statement-batch.ts'
import { AppError } from '../errors.ts'
import { evaluateExpression, isExpression } from '../engine/expressions.ts'
import { EngineStepError, type EngineRunner, type StepAction, type StepResult } from '../engine/runtime.ts'
import type { UserTaskSpec } from '../engine/definition.ts'
import { DossierStatus, FINAL_STATUSES, NATIONAL_STATUS, STATUS_LABEL_VI, isDossierStatus } from '../dossiers/statuses.ts'
import { canTransition, FINISHED_PROCESSING } from '../dossiers/lifecycle.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../history/history.repository.ts'
import type { OutboxMessage, OutboxRepository } from '../outbox/outbox.repository.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { NewTask, TaskRepository, TaskRow } from '../tasks/task.repository.ts'
import type { AlarmRow } from '../deadlines/alarm.repository.ts'
import type { TimerRow } from '../timers/timer.repository.ts'
import type { InstanceRepository, InstanceRow } from './instance.repository.ts'
import { isReturnStep, pathToResultReady, returnTask } from './return-step.ts'

export interface StepContext {
  instance: InstanceRow
  version: ProcedureVersionRow
  dossier: DossierRow
  /** The dossier and instance are created by this very step (their rows are in its batch): nothing of them is stored yet. */
  fresh?: boolean
  /** Rows the caller already read for this step (under its locks, or for a firing prepared ahead): observers use them instead of reading. */
  known?: {
    /** The instance's pending timer rows, without the one this step fires. */
    timers?: TimerRow[]
    /** The dossier's live deadline alarms. */
    alarms?: AlarmRow[]
  }
}

export interface StepOutcome {
  result: StepResult
  created: TaskRow[]
  /** The instance's open tasks after the step. */
  open: TaskRow[]
  status: DossierStatus
  /** Rows of `opts.readBack`, read after the step's writes in the same round trip. */
  readBack: unknown[]
}

export interface WriteOptions {
  actor: string
  now: Date
  fallbackStatus?: DossierStatus | null
  history?: HistoryEntry[]
  /** May carry the caller's own writes of this step (e.g. the task completion, the new dossier): they run first. */
  batch?: StatementBatch
  /** The instance's open tasks before the step, when the caller has read them (without any the batch closes). */
  open?: TaskRow[]
  /** A read run after the step's writes, in the same round trip (e.g. the dossier as the step left it). */
  readBack?: Compilable
  /** The saved engine state when the caller has read it already (used if the engine is not in memory). */
  state?: unknown
  /** Leave the batch unsent: the caller sends it later in its own transaction (a timer firing prepared ahead). */
  defer?: boolean
  /** The step's writes end the transaction: COMMIT goes in the same message (the caller runs nothing after). */
  commit?: boolean
}

/**
 * Hooks other modules add to every committed step (durable timers, deadlines) without this module
 * knowing them. Their writes go into `change.batch` (sent with the step's other writes); a read that
 * must see the step's writes flushes the batch first.
 */
export type StepObserver = (tx: Tx, ctx: StepContext, result: StepResult, now: Date, change: { from: string; to: DossierStatus; open: TaskRow[]; batch: StatementBatch }) => Promise<OutboxMessage[] | void>

const TASK_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask'])

function list(value: string | null, vars: Record<string, unknown>): string[] {
  if (!value) return []
  const v = isExpression(value) ? evaluateExpression(value, vars) : value
  const items = Array.isArray(v) ? v.map(String) : String(v ?? '').split(',')
  return [...new Set(items.map((s) => s.trim()).filter(Boolean))]
}

/**
 * Applies one engine step to a locked process instance and commits everything it implies in the
 * caller's transaction: engine state (with an optimistic version check), task rows, history,
 * dossier status and outbox messages. Either all of it is written or none.
 */
export function createInstanceService(deps: {
  engine: EngineRunner
  versions: ProcedureVersionCache
  instances: InstanceRepository
  tasks: TaskRepository
  dossiers: DossierRepository
  history: HistoryRepository
  outbox: OutboxRepository
  observers?: StepObserver[]
  /** Due date of a new user task; `unit`: the procedure's time-limit unit (working time or not). */
  taskDue: (spec: UserTaskSpec | undefined, vars: Record<string, unknown>, now: Date, unit: ProcedureVersionRow['metadata']['timeLimitUnit']) => Date | null
}) {
  const observers = deps.observers ?? []

  function taskRows(ctx: StepContext, result: StepResult, now: Date): NewTask[] {
    const out: NewTask[] = []
    for (const w of result.waiting) {
      if (!TASK_TYPES.has(w.type)) continue
      const spec = ctx.version.user_tasks[w.activityId]
      // An instance of a multi-instance task reads its own element variable (camunda:assignee="${reviewer}").
      const vars = { ...result.variables, ...w.localVariables, dossierCode: ctx.dossier.code }
      const due = deps.taskDue(spec, vars, now, ctx.version.metadata.timeLimitUnit)
      const assignee = spec?.assignee ? list(spec.assignee, vars)[0] ?? null : null
      out.push({
        id: randomUUID(),
        instance_id: ctx.instance.id,
        dossier_id: ctx.dossier.id,
        procedure_code: ctx.dossier.procedure_code,
        agency: ctx.dossier.agency,
        activity_id: w.activityId,
        execution_id: w.executionId,
        name: spec?.name ?? w.activityId,
        candidate_groups: list(spec?.candidateGroups ?? null, vars),
        candidate_users: list(spec?.candidateUsers ?? null, vars),
        assignee,
        form_key: spec?.formKey ?? null,
        due_at: due,
        created_at: now,
      })
    }
    return out
  }

  /** The statuses the step passes through, in order (a step may accept and start processing at once). */
  function statusPath(ctx: StepContext, result: StepResult, fallback: DossierStatus | null): DossierStatus[] {
    const path: DossierStatus[] = []
    let last = ctx.dossier.status as DossierStatus
    for (const id of result.reached) {
      const s = ctx.version.activity_statuses[id]
      if (isDossierStatus(s) && s !== last) { path.push(s); last = s }
    }
    // A process that ended leaves its dossier result-ready at least (the return step then follows).
    const tail = result.ended ? pathToResultReady(last) : []
    if (path.length || tail.length) return [...path, ...tail]
    return fallback && fallback !== last ? [fallback] : []
  }

  /** Writes the status moves of a step: the dossier row, one history line and one portal event per move. */
  function moveStatus(batch: StatementBatch, tx: Tx, dossier: DossierRow, path: DossierStatus[], actor: string, now: Date, history: HistoryEntry[], outbox: OutboxMessage[]): DossierStatus {
    let from = dossier.status as DossierStatus
    for (const to of path) {
      if (!canTransition(from, to)) throw new AppError('INVALID_STATUS_TRANSITION', `Hồ sơ không thể chuyển từ trạng thái "${STATUS_LABEL_VI[from]}" sang "${STATUS_LABEL_VI[to]}"`, { from, to })
      history.push({ dossier_id: dossier.id, action: 'dossier.status_changed', actor, status: to, details: { from, nationalStatus: NATIONAL_STATUS[to] }, at: now })
      outbox.push({ topic: 'dossier.status-changed', payload: { dossierId: dossier.id, code: dossier.code, status: to, nationalStatus: NATIONAL_STATUS[to], at: now.toISOString() } })
      from = to
    }
    if (from !== dossier.status) {
      batch.add(deps.dossiers.setStatus(tx, dossier.id, from, NATIONAL_STATUS[from], FINISHED_PROCESSING.has(from) && !dossier.finished_at ? now : null, now))
    }
    return from
  }

  async function observe(batch: StatementBatch, tx: Tx, ctx: StepContext, result: StepResult, now: Date, to: DossierStatus, openAfter: TaskRow[]): Promise<OutboxMessage[]> {
    const out: OutboxMessage[] = []
    for (const o of observers) {
      const msgs = await o(tx, ctx, result, now, { from: ctx.dossier.status, to, open: openAfter, batch })
      if (msgs) out.push(...msgs)
    }
    return out
  }

  const service = {
    /** Runs the engine for one step (no writes): from the saved state, or a new instance for `start`. */
    async runEngine(tx: Tx | null, instance: Pick<InstanceRow, 'id' | 'step_id'>, version: ProcedureVersionRow, action: StepAction, state?: unknown): Promise<StepResult> {
      const load = async () => (state !== undefined ? state : tx ? deps.instances.loadState(tx, instance.id) : null)
      try {
        return await deps.engine.step(instance.id, instance.step_id, deps.versions.sourceContext(version), load, action)
      } catch (err) {
        if (err instanceof EngineStepError && err.interrupted) {
          throw new AppError('TASK_ALREADY_COMPLETED', 'Công việc đã kết thúc do quá thời hạn (sự kiện hẹn giờ) trước khi được hoàn thành', { activityId: err.activityId })
        }
        if (err instanceof EngineStepError) {
          throw new AppError('PROCESS_STEP_FAILED', `Không thể chuyển bước xử lý: ${err.message}`, { activityId: err.activityId, ...err.noWayOut })
        }
        throw err
      }
    },

    /** One step: the engine, then everything it implies written in one round trip. */
    async step(tx: Tx, ctx: StepContext, action: StepAction, opts: WriteOptions): Promise<StepOutcome> {
      if (action.kind === 'signal' && isReturnStep(action.activityId)) {
        // The runtime's return step: the engine has ended already; the dossier moves to RETURNED.
        const state = opts.state !== undefined ? opts.state : await deps.instances.loadState(tx, ctx.instance.id)
        const done: StepResult = { state, ended: true, waiting: [], timers: [], variables: {}, reached: [], stepId: randomUUID(), firedTimers: [] }
        return service.write(tx, ctx, done, { ...opts, fallbackStatus: DossierStatus.RETURNED })
      }
      const result = await service.runEngine(tx, ctx.instance, ctx.version, action, opts.state)
      return service.write(tx, ctx, result, opts)
    },

    /**
     * Writes what an engine step implies: task rows, engine state (with its optimistic version check),
     * status moves, observers' rows, history and outbox, all added to one batch and sent at once.
     */
    async write(tx: Tx, ctx: StepContext, result: StepResult, opts: WriteOptions): Promise<StepOutcome> {
      const { instance, dossier } = ctx
      const { now, actor } = opts
      const batch = opts.batch ?? new StatementBatch()
      const open = opts.open ?? (ctx.fresh ? [] : await deps.tasks.openForInstance(tx, instance.id))
      const stillWaiting = new Set(result.waiting.map((w) => w.executionId))
      const vanished = open.filter((t) => !stillWaiting.has(t.execution_id))
      const known = new Set(open.map((t) => t.execution_id))
      const created = taskRows(ctx, { ...result, waiting: result.waiting.filter((w) => !known.has(w.executionId)) }, now)
      const path = statusPath(ctx, result, opts.fallbackStatus ?? null)
      const to = path.at(-1) ?? (dossier.status as DossierStatus)
      if (result.ended && !FINAL_STATUSES.has(to) && !open.some((t) => isReturnStep(t.activity_id))) created.push(returnTask(ctx, now))
      batch.add(deps.tasks.cancel(tx, vanished.map((t) => t.id), now))
      batch.add(deps.tasks.insertMany(tx, created))
      batch.add(deps.instances.saveState(tx, instance.id, instance.version, { state: result.state, stepId: result.stepId, status: result.ended ? 'completed' : 'running' }, now), {
        expectRows: 1,
        onMismatch: () => new AppError('CONCURRENT_MODIFICATION', 'Hồ sơ vừa được xử lý bởi yêu cầu khác, vui lòng thử lại'),
      })

      const history: HistoryEntry[] = [...(opts.history ?? [])]
      const outbox: OutboxMessage[] = []
      for (const t of vanished) history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.cancelled', actor: 'system', at: now })
      for (const t of created) history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.created', actor: 'system', details: { name: t.name, dueAt: t.due_at, candidateGroups: t.candidate_groups }, at: now })
      const status = moveStatus(batch, tx, dossier, path, actor, now, history, outbox)
      if (result.ended && instance.status !== 'completed') history.push({ dossier_id: dossier.id, action: 'process.completed', actor: 'system', at: now })
      const createdRows: TaskRow[] = created.map((t) => ({ ...t, status: 'open', variables: null, completed_by: null, claimed_at: null, completed_at: null, deadline_state: 'on_track' }))
      const gone = new Set(vanished.map((t) => t.id))
      const openAfter = [...open.filter((t) => !gone.has(t.id) && t.status === 'open'), ...createdRows]
      outbox.push(...await observe(batch, tx, ctx, result, now, status, openAfter))
      batch.add(deps.history.append(tx, history))
      batch.add(deps.outbox.enqueue(tx, outbox))
      if (opts.defer) return { result, created: createdRows, open: openAfter, status, readBack: [] }
      const readAt = opts.readBack ? batch.read(opts.readBack) : -1
      const rows = await batch.flush(tx, { commit: opts.commit })
      return { result, created: createdRows, open: openAfter, status, readBack: readAt < 0 ? [] : rows[readAt]! }
    },

    /**
     * Ends a running instance from outside the diagram (withdrawal by the applicant, stop of the
     * processing): open tasks are cancelled, timers and deadline alarms dropped, the dossier moves to
     * `to`, in the caller's transaction. The engine state is kept for the record.
     */
    async terminate(tx: Tx, ctx: StepContext, to: DossierStatus, opts: { actor: string; now: Date; history?: HistoryEntry[] }): Promise<void> {
      const { instance, dossier } = ctx
      const { now, actor } = opts
      const open = await deps.tasks.openForInstance(tx, instance.id)
      const batch = new StatementBatch()
      batch.add(deps.tasks.cancel(tx, open.map((t) => t.id), now))
      const saved = await deps.instances.markTerminated(tx, instance.id, instance.version, now)
      if (!saved) throw new AppError('CONCURRENT_MODIFICATION', 'Hồ sơ vừa được xử lý bởi yêu cầu khác, vui lòng thử lại')
      const history: HistoryEntry[] = [...(opts.history ?? [])]
      const outbox: OutboxMessage[] = []
      for (const t of open) history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.cancelled', actor: 'system', at: now })
      const status = moveStatus(batch, tx, dossier, [to], actor, now, history, outbox)
      history.push({ dossier_id: dossier.id, action: 'process.terminated', actor, status, at: now })
      const ended: StepResult = { state: null, ended: true, waiting: [], timers: [], variables: {}, reached: [], stepId: '', firedTimers: [] }
      outbox.push(...await observe(batch, tx, ctx, ended, now, status, []))
      batch.add(deps.history.append(tx, history))
      batch.add(deps.outbox.enqueue(tx, outbox))
      await batch.flush(tx)
    },
  }
  return service
}
export type InstanceService = ReturnType<typeof createInstanceService>
