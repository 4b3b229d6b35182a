import { randomUUID } from 'node:crypto'
import { AppError } from '../errors.ts'
import { calledVersion, mapVariables, type CallSpec } from '../engine/call-activity.ts'
import type { StepAction } from '../engine/runtime.ts'
import type { WaitingActivity } from '../engine/waiting.ts'
import type { OutboxMessage } from '../outbox/outbox.repository.ts'
import type { ProcedureRepository } from '../procedures/procedure.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { HistoryEntry } from '../records/history.repository.ts'
import type { InstanceRow } from '../records/instance.repository.ts'
import { readForStep, type StepRepositories } from './lock.ts'
import type { StepContext, StepInput, StepOutcome, WriteDeps } from './write.ts'

/**
 * Call activities to another deployed procedure (gọi thủ tục khác): the called procedure runs as its
 * own process instance of the same dossier, linked to its caller's instance and call activity
 * execution. After every step of an instance, in the same unit of work:
 *
 * - each call activity execution now waiting without an instance of its own starts one (one per
 *   element of a multi-instance call activity), with its `camunda:in` variables;
 * - each called instance whose call activity execution no longer waits (an interrupting boundary
 *   event, the caller's end) is cancelled with its open tasks and timers, and its own called ones;
 * - a called instance that ended completes its call activity with its `camunda:out` variables; a BPMN
 *   error or escalation it did not catch is thrown on the call activity (Camunda 7 propagation).
 *
 * Each of these is a step of another instance, run and written like any other (and followed in turn).
 * The locks are those of the first step: `lockForStep` locks every instance of the dossier.
 */

/** How deep call activities may nest (a procedure calling itself through others would never end). */
export const MAX_CALL_DEPTH = 10

export interface CallDeps extends WriteDeps, StepRepositories {
  versions: ProcedureVersionCache
  procedures: ProcedureRepository
}

/** What the steps of linked instances left: each one's outcome, in order, and the instances cancelled. */
export interface Linked {
  steps: Array<{ instanceId: string; outcome: StepOutcome }>
  cancelled: string[]
}

/** The step runner's own step and write: a step of a linked instance is one like any other. */
export interface Stepper {
  step(ctx: StepContext, action: StepAction, input: StepInput): Promise<StepOutcome>
  startWith(ctx: StepContext, variables: Record<string, unknown>, input: StepInput): Promise<StepOutcome>
}

const concurrent = () => new AppError('CONCURRENT_MODIFICATION', 'Hồ sơ vừa được xử lý bởi yêu cầu khác, vui lòng thử lại')

const isOutward = (ctx: StepContext, w: WaitingActivity) => w.type === 'bpmn:CallActivity' && !!ctx.version.calls?.[w.activityId]

/**
 * After a step of `ctx`'s instance was added to the unit of work: the called instances it starts,
 * cancels or answers (null when the instance neither calls nor was called).
 */
export async function followCalls(
  deps: CallDeps,
  runner: Stepper,
  ctx: StepContext,
  outcome: StepOutcome,
  input: StepInput,
): Promise<Linked | null> {
  const { instance } = ctx.data
  if (!Object.keys(ctx.version.calls ?? {}).length && !instance.parent_instance_id) return null
  const linked: Linked = { steps: [], cancelled: [] }
  const { uow } = ctx
  const all = uow.read(deps.instances.forDossier(uow.tx, ctx.data.dossier.id))
  // A prepared (deferred) step cannot read: it is left to the live one.
  await uow.flush()
  const instances = all.rows
  const outward = outcome.result.waiting.filter((w) => isOutward(ctx, w))
  const waiting = new Set(outward.map((w) => w.executionId))
  const called = instances.filter((i) => i.parent_instance_id === instance.id && i.status === 'running')
  for (const child of called)
    if (!waiting.has(child.parent_execution_id!)) linked.cancelled.push(...(await cancelCalled(deps, ctx, instances, child, input.now)))
  const running = new Set(called.map((c) => c.parent_execution_id))
  for (const w of outward) if (!running.has(w.executionId)) linked.steps.push(await startCalled(deps, runner, ctx, outcome, w, input))
  if (instance.parent_instance_id) linked.steps.push(...(await answerCaller(deps, runner, ctx, outcome, input)))
  return linked
}

/** Cancels the running instances `instance` called (and theirs), e.g. when a dossier is withdrawn while a called procedure runs. */
export async function cancelCalledOf(deps: CallDeps, ctx: StepContext, now: Date): Promise<string[]> {
  const { uow } = ctx
  const all = uow.read(deps.instances.forDossier(uow.tx, ctx.data.dossier.id))
  await uow.flush()
  const cancelled: string[] = []
  for (const child of all.rows.filter((i) => i.parent_instance_id === ctx.data.instance.id && i.status === 'running'))
    cancelled.push(...(await cancelCalled(deps, ctx, all.rows, child, now)))
  return cancelled
}

async function resolveVersion(deps: CallDeps, ctx: StepContext, spec: CallSpec, variables: Record<string, unknown>): Promise<number> {
  const tx = ctx.uow.tx
  if (spec.binding === 'deployment' && spec.deploymentVersionId) return spec.deploymentVersionId
  if (spec.binding === 'version') {
    const n = calledVersion(spec, variables)
    const row = n === null ? null : await deps.procedures.findVersion(tx, spec.procedureCode, n)
    if (!row)
      throw new AppError(
        'CALLED_PROCEDURE_NOT_FOUND',
        `Thủ tục được gọi ${spec.procedureCode} không có phiên bản "${spec.version}" (tính ra: ${n ?? 'không phải số nguyên dương'})`,
        { procedureCode: spec.procedureCode, version: n },
      )
    return Number(row.id)
  }
  const latest = await deps.procedures.latestVersionId(tx, spec.procedureCode)
  if (latest === null)
    throw new AppError('CALLED_PROCEDURE_NOT_FOUND', `Thủ tục được gọi ${spec.procedureCode} không còn phiên bản nào`, {
      procedureCode: spec.procedureCode,
      version: null,
    })
  return latest
}

/** Starts the called procedure's instance for one waiting call activity execution. */
async function startCalled(
  deps: CallDeps,
  runner: Stepper,
  ctx: StepContext,
  outcome: StepOutcome,
  w: WaitingActivity,
  input: StepInput,
): Promise<{ instanceId: string; outcome: StepOutcome }> {
  const { uow } = ctx
  const { instance, dossier } = ctx.data
  const spec = ctx.version.calls[w.activityId]!
  const depth = (instance.call_depth ?? 0) + 1
  if (depth > MAX_CALL_DEPTH)
    throw new AppError(
      'CALL_DEPTH_EXCEEDED',
      `Hoạt động gọi ${w.activityId} vượt quá ${MAX_CALL_DEPTH} cấp gọi lồng nhau (thủ tục gọi lại chính nó?): hồ sơ không thay đổi`,
      { activityId: w.activityId, depth },
    )
  const callerVariables = { ...outcome.result.variables, ...w.localVariables }
  const version = await deps.versions.get(uow.tx, await resolveVersion(deps, ctx, spec, callerVariables))
  const row: InstanceRow = {
    id: randomUUID(),
    dossier_id: dossier.id,
    procedure_version_id: version.id,
    status: 'running',
    step_id: null,
    version: 0,
    error: null,
    parent_instance_id: instance.id,
    parent_activity_id: w.activityId,
    parent_execution_id: w.executionId,
    call_depth: depth,
    created_at: input.now,
    updated_at: input.now,
  }
  uow.write(deps.instances.insert(uow.tx, row, input.now))
  // The dossier as the steps before left it (its status, its deadline alarms, its open tasks).
  const fresh = uow.read(deps.dossiers.find(uow.tx, dossier.id))
  const alarms = uow.read(deps.alarms.liveForDossiers(uow.tx, [dossier.id]))
  const open = uow.read(deps.tasks.openForDossier(uow.tx, dossier.id))
  await uow.flush()
  const history: HistoryEntry[] = [
    {
      dossier_id: dossier.id,
      activity_id: w.activityId,
      action: 'process.call_started',
      actor: 'system',
      details: { instanceId: row.id, procedureCode: version.procedure_code, version: version.version, callerInstanceId: instance.id },
      at: input.now,
    },
  ]
  const data = {
    instance: row,
    dossier: fresh.one()!,
    openTasks: [],
    pendingTimers: [],
    liveAlarms: alarms.rows,
    otherOpenTasks: open.rows,
  }
  const variables = mapVariables(spec.inputs, outcome.result.variables, w.localVariables)
  const started = await runner.startWith({ uow, version, data }, variables, {
    actor: input.actor,
    now: input.now,
    history,
    fallbackStatus: null,
  })
  return { instanceId: row.id, outcome: started }
}

/** The called instance ended or threw: its call activity completes, or gets the error or escalation. */
async function answerCaller(
  deps: CallDeps,
  runner: Stepper,
  ctx: StepContext,
  outcome: StepOutcome,
  input: StepInput,
): Promise<Linked['steps']> {
  const steps: Linked['steps'] = []
  const { instance } = ctx.data
  const at = { activityId: instance.parent_activity_id!, executionId: instance.parent_execution_id! }
  for (const t of outcome.result.uncaught ?? []) {
    const caller = await callerStep(deps, ctx)
    if (!caller) return steps
    const action: StepAction =
      t.kind === 'escalation'
        ? { kind: 'bpmnEscalation', ...at, escalationCode: t.code, variables: {} }
        : { kind: 'bpmnError', ...at, errorCode: t.code, errorMessage: t.message, variables: {} }
    try {
      const out = await runner.step(caller, action, { actor: 'system', now: input.now, history: [], fallbackStatus: null })
      steps.push({ instanceId: caller.data.instance.id, outcome: out })
      // Caught by an interrupting boundary: the call activity is over, nothing waits for this instance's end.
      if (!out.result.waiting.some((w) => w.executionId === at.executionId)) return steps
    } catch (err) {
      // Nothing on the call activity catches it: an escalation has no effect, and an error behaves as
      // an error end event nothing catches (a none end event), as in the caller's own diagram.
      const code = (err as { code?: string }).code
      if (code !== 'ESCALATION_NOT_CAUGHT' && code !== 'BPMN_ERROR_NOT_CAUGHT') throw err
    }
  }
  if (!outcome.result.ended) return steps
  const caller = await callerStep(deps, ctx)
  if (!caller) return steps
  const spec = caller.version.calls[at.activityId]
  const variables = mapVariables(spec?.outputs ?? [], outcome.result.variables)
  const history: HistoryEntry[] = [
    {
      dossier_id: ctx.data.dossier.id,
      activity_id: at.activityId,
      action: 'process.call_completed',
      actor: 'system',
      details: { instanceId: instance.id, procedureCode: ctx.version.procedure_code, version: ctx.version.version },
      at: input.now,
    },
  ]
  const done = await runner.step(
    caller,
    { kind: 'completeCall', ...at, variables },
    { actor: 'system', now: input.now, fallbackStatus: null, history },
  )
  steps.push({ instanceId: caller.data.instance.id, outcome: done })
  return steps
}

/**
 * A BPMN error or escalation an officer throws from a called procedure's task that nothing in that
 * procedure catches goes to its call activity, as Camunda 7 propagates it to the calling instance
 * (and on up, each caller in turn). Null when the caller does not catch it either (nothing is written
 * then). Caught by an interrupting boundary, the called instance is cancelled with the call activity.
 */
export async function throwToCaller(
  deps: CallDeps,
  runner: Stepper,
  ctx: StepContext,
  thrown: { kind: 'error'; code: string; message: string | null } | { kind: 'escalation'; code: string },
  input: StepInput,
): Promise<StepOutcome | null> {
  const { instance } = ctx.data
  const caller = await callerStep(deps, ctx)
  if (!caller) return null
  const at = { activityId: instance.parent_activity_id!, executionId: instance.parent_execution_id! }
  const action: StepAction =
    thrown.kind === 'escalation'
      ? { kind: 'bpmnEscalation', ...at, escalationCode: thrown.code, variables: {} }
      : { kind: 'bpmnError', ...at, errorCode: thrown.code, errorMessage: thrown.message, variables: {} }
  try {
    const out = await runner.step(caller, action, { ...input, fallbackStatus: null })
    const open = ctx.uow.read(deps.tasks.openForDossier(ctx.uow.tx, ctx.data.dossier.id))
    await ctx.uow.flush()
    return { ...out, open: open.rows }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ESCALATION_NOT_CAUGHT' || code === 'BPMN_ERROR_NOT_CAUGHT') return null
    throw err
  }
}

/** The caller's step data, read after everything this unit of work added; null when it no longer runs. */
async function callerStep(deps: CallDeps, ctx: StepContext): Promise<StepContext | null> {
  const { uow } = ctx
  const { instance, dossier } = ctx.data
  const open = uow.read(deps.tasks.openForDossier(uow.tx, dossier.id))
  const data = await readForStep(uow, deps, { instanceId: instance.parent_instance_id!, dossierId: dossier.id })
  if (!data || data.instance.status !== 'running') return null
  const version = await deps.versions.get(uow.tx, data.instance.procedure_version_id)
  return { uow, version, data: { ...data, otherOpenTasks: open.rows.filter((t) => t.instance_id !== data.instance.id) } }
}

/** Cancels a called instance and everything it called in turn: open tasks, timers, the instance. Returns the instances cancelled. */
async function cancelCalled(deps: CallDeps, ctx: StepContext, all: InstanceRow[], child: InstanceRow, now: Date): Promise<string[]> {
  const { uow } = ctx
  const tx = uow.tx
  const cancelled: string[] = []
  for (const grandchild of all.filter((i) => i.parent_instance_id === child.id && i.status === 'running'))
    cancelled.push(...(await cancelCalled(deps, ctx, all, grandchild, now)))
  const open = uow.read(deps.tasks.openForInstances(tx, { dossiers: [child.dossier_id], instances: [child.id] }))
  const timers = uow.read(deps.timers.pendingForInstances(tx, [child.id]))
  await uow.flush()
  const dossierId = ctx.data.dossier.id
  uow.write(
    deps.tasks.cancel(
      tx,
      open.rows.map((t) => t.id),
      now,
    ),
  )
  uow.write(
    deps.timers.cancel(
      tx,
      timers.rows.map((t) => t.id),
    ),
  )
  uow.write(deps.instances.markTerminated(tx, child.id, child.version, now), { expectRows: 1, onMismatch: concurrent })
  const history: HistoryEntry[] = [
    ...open.rows.map((t) => ({
      dossier_id: dossierId,
      task_id: t.id,
      activity_id: t.activity_id,
      action: 'task.cancelled',
      actor: 'system',
      at: now,
    })),
    {
      dossier_id: dossierId,
      activity_id: child.parent_activity_id,
      action: 'process.call_cancelled',
      actor: 'system',
      details: { instanceId: child.id },
      at: now,
    },
  ]
  const outbox: OutboxMessage[] = timers.rows.map((t) => ({ topic: 'timer.cancelled', payload: { timerId: t.id, jobId: `timer-${t.id}` } }))
  uow.write(deps.history.append(tx, history))
  uow.write(deps.outbox.enqueue(tx, outbox))
  child.status = 'terminated'
  return [...cancelled, child.id]
}
