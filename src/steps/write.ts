import { randomUUID } from 'node:crypto'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import { evaluateExpression, isExpression } from '../engine/expressions.ts'
import type { StepResult } from '../engine/runtime.ts'
import type { UserTaskSpec } from '../engine/definition.ts'
import type { OutboxMessage, OutboxRepository } from '../outbox/outbox.repository.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import type { InstanceRepository } from '../records/instance.repository.ts'
import { type DossierStatus, FINAL_STATUSES, NATIONAL_STATUS, STATUS_LABEL_VI, isDossierStatus } from '../records/statuses.ts'
import { canTransition, FINISHED_PROCESSING } from '../records/status-transitions.ts'
import type { NewTask, TaskRepository, TaskRow } from '../records/task.repository.ts'
import type { StepData } from './lock.ts'
import type { ObservedRead, StepObserver } from './observer.ts'
import { isReturnStep, pathToResultReady, returnTask } from './return-step.ts'

/** One step to write: the rows it read, in the unit of work that carries its writes. */
export interface StepContext {
  /** Carries the caller's own writes of this step (they run first); the step adds its own and sends none. */
  uow: UnitOfWork
  version: ProcedureVersionRow
  data: StepData
}

/** Who makes the step, when, what it records beside its own history, and where the dossier goes if the diagram says nothing. */
export interface StepInput {
  actor: string
  now: Date
  /** The caller's history lines of this step (e.g. the task completion). */
  history: HistoryEntry[]
  /** The status the dossier moves to when the diagram reaches no status of its own (null: it stays). */
  fallbackStatus: DossierStatus | null
}

export interface StepOutcome {
  result: StepResult
  /** The task rows the step created (with those of the called procedures' instances it moved). */
  created: TaskRow[]
  /** The instance's open tasks after the step (the whole dossier's when the step moved a called procedure's instance or its caller). */
  open: TaskRow[]
  status: DossierStatus
}

export interface WriteDeps {
  instances: InstanceRepository
  tasks: TaskRepository
  dossiers: DossierRepository
  history: HistoryRepository
  outbox: OutboxRepository
  observers: readonly StepObserver[]
  /** Due date of a new user task; `unit`: the procedure's time-limit unit (working time or not). */
  taskDue: (
    spec: UserTaskSpec | undefined,
    vars: Record<string, unknown>,
    now: Date,
    unit: ProcedureVersionRow['metadata']['timeLimitUnit'],
  ) => Date | null
}

const TASK_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask'])

function list(value: string | null, vars: Record<string, unknown>): string[] {
  if (!value) return []
  const v = isExpression(value) ? evaluateExpression(value, vars) : value
  const items = Array.isArray(v) ? v.map(String) : String(v ?? '').split(',')
  return [...new Set(items.map((s) => s.trim()).filter(Boolean))]
}

function taskRows(deps: WriteDeps, ctx: StepContext, result: StepResult, now: Date): NewTask[] {
  const { instance, dossier } = ctx.data
  const out: NewTask[] = []
  for (const w of result.waiting) {
    if (!TASK_TYPES.has(w.type)) continue
    const spec = ctx.version.user_tasks[w.activityId]
    // An instance of a multi-instance task reads its own element variable (camunda:assignee="${reviewer}").
    const vars = { ...result.variables, ...w.localVariables, dossierCode: dossier.code }
    const due = deps.taskDue(spec, vars, now, ctx.version.metadata.timeLimitUnit)
    // The follow-up date is computed as the due date is, from camunda:followUpDate alone.
    const followUp = spec?.followUpDate
      ? deps.taskDue(
          { ...spec, dueDate: spec.followUpDate, workingDays: null, dueRule: null },
          vars,
          now,
          ctx.version.metadata.timeLimitUnit,
        )
      : null
    const assignee = spec?.assignee ? (list(spec.assignee, vars)[0] ?? null) : null
    // A called procedure's task belongs to that procedure and its agency (another agency's officers work it).
    const called = !!instance.parent_instance_id
    out.push({
      id: randomUUID(),
      instance_id: instance.id,
      dossier_id: dossier.id,
      procedure_code: called ? ctx.version.procedure_code : dossier.procedure_code,
      agency: called ? ctx.version.metadata.agency : dossier.agency,
      activity_id: w.activityId,
      execution_id: w.executionId,
      name: spec?.name ?? w.activityId,
      candidate_groups: list(spec?.candidateGroups ?? null, vars),
      candidate_users: list(spec?.candidateUsers ?? null, vars),
      assignee,
      form_key: spec?.formKey ?? null,
      due_at: due,
      follow_up_at: followUp,
      created_at: now,
    })
  }
  return out
}

/** The statuses the step passes through, in order (a step may accept and start processing at once). */
function statusPath(ctx: StepContext, result: StepResult, fallback: DossierStatus | null): DossierStatus[] {
  const path: DossierStatus[] = []
  let last = ctx.data.dossier.status as DossierStatus
  for (const id of result.reached) {
    const s = ctx.version.activity_statuses[id]
    if (isDossierStatus(s) && s !== last) {
      path.push(s)
      last = s
    }
  }
  // A process that ended leaves its dossier result-ready at least (the return step then follows); a
  // called procedure's end hands the dossier back to its caller.
  const tail = result.ended && !ctx.data.instance.parent_instance_id ? pathToResultReady(last) : []
  if (path.length || tail.length) return [...path, ...tail]
  return fallback && fallback !== last ? [fallback] : []
}

/** The status moves of a step: the dossier row, one history line and one portal event per move. */
function moveStatus(
  deps: WriteDeps,
  uow: UnitOfWork,
  dossier: DossierRow,
  path: DossierStatus[],
  by: { actor: string; now: Date },
  history: HistoryEntry[],
  outbox: OutboxMessage[],
): DossierStatus {
  const { actor, now } = by
  let from = dossier.status as DossierStatus
  for (const to of path) {
    if (!canTransition(from, to))
      throw new AppError(
        'INVALID_STATUS_TRANSITION',
        `Hồ sơ không thể chuyển từ trạng thái "${STATUS_LABEL_VI[from]}" sang "${STATUS_LABEL_VI[to]}"`,
        { from, to },
      )
    history.push({
      dossier_id: dossier.id,
      action: 'dossier.status_changed',
      actor,
      status: to,
      details: { from, nationalStatus: NATIONAL_STATUS[to] },
      at: now,
    })
    outbox.push({
      topic: 'dossier.status-changed',
      payload: { dossierId: dossier.id, code: dossier.code, status: to, nationalStatus: NATIONAL_STATUS[to], at: now.toISOString() },
      // Due at the step's own instant (the injected clock), not the database's.
      availableAt: now,
    })
    from = to
  }
  if (from !== dossier.status) {
    uow.write(
      deps.dossiers.setStatus(
        uow.tx,
        dossier.id,
        from,
        NATIONAL_STATUS[from],
        FINISHED_PROCESSING.has(from) && !dossier.finished_at ? now : null,
        now,
      ),
    )
  }
  return from
}

/** Each observer gets what it declared of the step's reads, nothing more. */
function declared<R extends ObservedRead>(data: StepData, reads: readonly R[]): Pick<StepData, R> {
  return Object.fromEntries(reads.map((r) => [r, data[r]])) as Pick<StepData, R>
}

async function observe(
  deps: WriteDeps,
  ctx: StepContext,
  result: StepResult,
  now: Date,
  to: DossierStatus,
  open: TaskRow[],
): Promise<OutboxMessage[]> {
  const out: OutboxMessage[] = []
  const { instance, dossier } = ctx.data
  for (const o of deps.observers) {
    out.push(
      ...(await o.apply({
        uow: ctx.uow,
        version: ctx.version,
        instance,
        dossier,
        result,
        now,
        from: dossier.status,
        to,
        open,
        read: declared(ctx.data, o.reads),
      })),
    )
  }
  return out
}

const concurrent = () => new AppError('CONCURRENT_MODIFICATION', 'Hồ sơ vừa được xử lý bởi yêu cầu khác, vui lòng thử lại')

/**
 * Adds what an engine step implies to the unit of work: task rows, engine state (with its optimistic
 * version check), status moves, observers' rows, history and outbox. The caller sends it.
 */
export async function writeStep(deps: WriteDeps, ctx: StepContext, result: StepResult, input: StepInput): Promise<StepOutcome> {
  const {
    uow,
    data: { instance, dossier, openTasks: open },
  } = ctx
  const { now } = input
  const stillWaiting = new Set(result.waiting.map((w) => w.executionId))
  const vanished = open.filter((t) => !stillWaiting.has(t.execution_id))
  const known = new Set(open.map((t) => t.execution_id))
  const created = taskRows(deps, ctx, { ...result, waiting: result.waiting.filter((w) => !known.has(w.executionId)) }, now)
  const path = statusPath(ctx, result, input.fallbackStatus)
  const to = path.at(-1) ?? (dossier.status as DossierStatus)
  if (result.ended && !instance.parent_instance_id && !FINAL_STATUSES.has(to) && !open.some((t) => isReturnStep(t.activity_id)))
    created.push(returnTask(ctx.data, now))
  uow.write(
    deps.tasks.cancel(
      uow.tx,
      vanished.map((t) => t.id),
      now,
    ),
  )
  uow.write(deps.tasks.insertMany(uow.tx, created))
  uow.write(
    deps.instances.saveState(
      uow.tx,
      instance.id,
      instance.version,
      { state: result.state, stepId: result.stepId, status: result.ended ? 'completed' : 'running' },
      now,
    ),
    { expectRows: 1, onMismatch: concurrent },
  )

  const history: HistoryEntry[] = [...input.history]
  const outbox: OutboxMessage[] = []
  for (const t of vanished)
    history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.cancelled', actor: 'system', at: now })
  for (const t of created)
    history.push({
      dossier_id: dossier.id,
      task_id: t.id,
      activity_id: t.activity_id,
      action: 'task.created',
      actor: 'system',
      details: { name: t.name, dueAt: t.due_at, candidateGroups: t.candidate_groups },
      at: now,
    })
  const status = moveStatus(deps, uow, dossier, path, input, history, outbox)
  if (result.ended && instance.status !== 'completed')
    history.push({ dossier_id: dossier.id, action: 'process.completed', actor: 'system', at: now })
  const createdRows: TaskRow[] = created.map((t) => ({
    ...t,
    status: 'open',
    variables: null,
    completed_by: null,
    claimed_at: null,
    completed_at: null,
    deadline_state: 'on_track',
  }))
  const gone = new Set(vanished.map((t) => t.id))
  const openAfter = [...open.filter((t) => !gone.has(t.id) && t.status === 'open'), ...createdRows]
  // The deadline alarms watch every open task of the dossier, a called procedure's (or its caller's) too.
  outbox.push(...(await observe(deps, ctx, result, now, status, [...openAfter, ...(ctx.data.otherOpenTasks ?? [])])))
  uow.write(deps.history.append(uow.tx, history))
  uow.write(deps.outbox.enqueue(uow.tx, outbox))
  return { result, created: createdRows, open: openAfter, status }
}

/**
 * Ends a running instance from outside the diagram (withdrawal by the applicant, stop of the
 * processing): open tasks are cancelled, timers and deadline alarms dropped (by the observers), the
 * dossier moves to `to`. Added to the unit of work; the engine state is kept for the record.
 */
export async function terminateStep(
  deps: WriteDeps,
  ctx: StepContext,
  to: DossierStatus,
  input: Omit<StepInput, 'fallbackStatus'>,
): Promise<void> {
  const {
    uow,
    data: { instance, dossier, openTasks: open },
  } = ctx
  const { now, actor } = input
  uow.write(
    deps.tasks.cancel(
      uow.tx,
      open.map((t) => t.id),
      now,
    ),
  )
  uow.write(deps.instances.markTerminated(uow.tx, instance.id, instance.version, now), { expectRows: 1, onMismatch: concurrent })
  const history: HistoryEntry[] = [...input.history]
  const outbox: OutboxMessage[] = []
  for (const t of open)
    history.push({ dossier_id: dossier.id, task_id: t.id, activity_id: t.activity_id, action: 'task.cancelled', actor: 'system', at: now })
  const status = moveStatus(deps, uow, dossier, [to], input, history, outbox)
  history.push({ dossier_id: dossier.id, action: 'process.terminated', actor, status, at: now })
  const ended: StepResult = { state: null, ended: true, waiting: [], timers: [], variables: {}, reached: [], stepId: '', firedTimers: [] }
  outbox.push(...(await observe(deps, ctx, ended, now, status, [])))
  uow.write(deps.history.append(uow.tx, history))
  uow.write(deps.outbox.enqueue(uow.tx, outbox))
}
