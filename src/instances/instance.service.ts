import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { evaluateExpression, isExpression } from '../engine/expressions.ts'
import { EngineStepError, type EngineRunner, type StepAction, type StepResult } from '../engine/runtime.ts'
import type { UserTaskSpec } from '../engine/definition.ts'
import { DossierStatus, NATIONAL_STATUS, isDossierStatus } from '../dossiers/statuses.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../history/history.repository.ts'
import type { OutboxMessage, OutboxRepository } from '../outbox/outbox.repository.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { NewTask, TaskRepository, TaskRow } from '../tasks/task.repository.ts'
import type { InstanceRepository, InstanceRow } from './instance.repository.ts'

export interface StepContext {
  instance: InstanceRow
  version: ProcedureVersionRow
  dossier: DossierRow
}

export interface StepOutcome {
  result: StepResult
  created: TaskRow[]
  /** The instance's open tasks after the step. */
  open: TaskRow[]
  status: DossierStatus
}

/** Hooks other modules add to every committed step (durable timers, deadlines) without this module knowing them. */
export type StepObserver = (tx: Tx, ctx: StepContext, result: StepResult, now: Date, change: { from: string; to: DossierStatus; open: TaskRow[] }) => Promise<OutboxMessage[] | void>

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
  /** Due date of a new user task. */
  taskDue: (spec: UserTaskSpec | undefined, vars: Record<string, unknown>, now: Date) => Date | null
}) {
  const observers = deps.observers ?? []

  function taskRows(ctx: StepContext, result: StepResult, now: Date): NewTask[] {
    const out: NewTask[] = []
    for (const w of result.waiting) {
      if (!TASK_TYPES.has(w.type)) continue
      const spec = ctx.version.user_tasks[w.activityId]
      const vars = { ...result.variables, dossierCode: ctx.dossier.code }
      const due = deps.taskDue(spec, vars, now)
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

  function nextStatus(ctx: StepContext, result: StepResult, fallback: DossierStatus | null): DossierStatus {
    let status: DossierStatus | null = null
    for (const id of result.reached) {
      const s = ctx.version.activity_statuses[id]
      if (isDossierStatus(s)) status = s
    }
    if (status) return status
    if (result.ended) return DossierStatus.RESULT_READY
    return fallback ?? (ctx.dossier.status as DossierStatus)
  }

  return {
    async step(tx: Tx, ctx: StepContext, action: StepAction, opts: { actor: string; now: Date; fallbackStatus?: DossierStatus | null; history?: HistoryEntry[] }): Promise<StepOutcome> {
      const { instance, dossier, version } = ctx
      const { now, actor } = opts
      let result: StepResult
      try {
        result = await deps.engine.step(instance.id, instance.step_id, deps.versions.sourceContext(version), () => deps.instances.loadState(tx, instance.id), action)
      } catch (err) {
        if (err instanceof EngineStepError) {
          throw new AppError('PROCESS_STEP_FAILED', `Không thể chuyển bước xử lý: ${err.message}`, { activityId: err.activityId })
        }
        throw err
      }

      const open = await deps.tasks.openForInstance(tx, instance.id)
      const stillWaiting = new Set(result.waiting.map((w) => w.executionId))
      const vanished = open.filter((t) => !stillWaiting.has(t.execution_id))
      const known = new Set(open.map((t) => t.execution_id))
      const created = taskRows(ctx, { ...result, waiting: result.waiting.filter((w) => !known.has(w.executionId)) }, now)
      await deps.tasks.cancel(tx, vanished.map((t) => t.id), now)
      await deps.tasks.insertMany(tx, created)

      const saved = await deps.instances.saveState(tx, instance.id, instance.version, { state: result.state, stepId: result.stepId, status: result.ended ? 'completed' : 'running' }, now)
      if (!saved) throw new AppError('CONCURRENT_MODIFICATION', 'Hồ sơ vừa được xử lý bởi yêu cầu khác, vui lòng thử lại')

      const status = nextStatus(ctx, result, opts.fallbackStatus ?? null)
      const history: HistoryEntry[] = [...(opts.history ?? [])]
      const outbox: OutboxMessage[] = []
      for (const t of vanished) history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.cancelled', actor: 'system', at: now })
      for (const t of created) history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.created', actor: 'system', details: { name: t.name, dueAt: t.due_at, candidateGroups: t.candidate_groups }, at: now })
      if (status !== dossier.status) {
        const finished = status === DossierStatus.RESULT_READY || status === DossierStatus.RETURNED || status === DossierStatus.WITHDRAWN || status === DossierStatus.STOPPED || status === DossierStatus.REFUSED_AT_RECEIPT
        await deps.dossiers.setStatus(tx, dossier.id, status, NATIONAL_STATUS[status], finished && !dossier.finished_at ? now : null, now)
        history.push({ dossier_id: dossier.id, action: 'dossier.status_changed', actor, status, details: { from: dossier.status, nationalStatus: NATIONAL_STATUS[status] }, at: now })
        outbox.push({ topic: 'dossier.status-changed', payload: { dossierId: dossier.id, code: dossier.code, status, nationalStatus: NATIONAL_STATUS[status], at: now.toISOString() } })
      }
      if (result.ended) history.push({ dossier_id: dossier.id, action: 'process.completed', actor: 'system', at: now })
      const createdRows: TaskRow[] = created.map((t) => ({ ...t, status: 'open', variables: null, completed_by: null, claimed_at: null, completed_at: null, deadline_state: 'on_track' }))
      const gone = new Set(vanished.map((t) => t.id))
      const openAfter = [...open.filter((t) => !gone.has(t.id) && t.status === 'open'), ...createdRows]
      for (const observe of observers) {
        const msgs = await observe(tx, ctx, result, now, { from: dossier.status, to: status, open: openAfter })
        if (msgs) outbox.push(...msgs)
      }
      await deps.history.append(tx, history)
      await deps.outbox.enqueue(tx, outbox)
      return { result, created: createdRows, open: openAfter, status }
    },
  }
}
export type InstanceService = ReturnType<typeof createInstanceService>
