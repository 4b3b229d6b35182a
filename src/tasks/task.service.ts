import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize, taskResource, taskScope } from '../auth/policy.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import { transaction, type UnitOfWork } from '../db/unit-of-work.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { TaskQuery, TaskRepository, TaskRow, TaskScope } from '../records/task.repository.ts'
import type { InstanceRepository } from '../records/instance.repository.ts'
import type { TaskForm } from '../engine/form-data.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import { applyTaskForm } from './form-fields.ts'
import type { StepRunner } from '../steps/step-runner.ts'

/** What a lifecycle action adds to a completion, inside its transaction (after the locks, before/after the step). */
export interface CompletionHooks {
  /** Its writes go first in the step's unit of work; its history lines join the step's. */
  before?: (uow: UnitOfWork, ctx: { task: TaskRow; dossier: DossierRow; version: ProcedureVersionRow; now: Date }) => HistoryEntry[]
  /** Its writes go after the step's, in the same message. */
  after?: (uow: UnitOfWork, ctx: { task: TaskRow; dossier: DossierRow; version: ProcedureVersionRow; now: Date }) => void
}

export { taskScope }

export function encodeCursor(task: TaskRow, sortBy: TaskQuery['sortBy']): string {
  const v = sortBy === 'due' ? task.due_at : sortBy === 'followUp' ? task.follow_up_at : task.created_at
  return Buffer.from(JSON.stringify({ v: v ? new Date(v).toISOString() : null, id: task.id })).toString('base64url')
}

export function decodeCursor(cursor: string): { v: string | null; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id) || (c.v !== null && Number.isNaN(Date.parse(c.v))))
      throw new Error('shape')
    return { v: c.v, id: c.id }
  } catch {
    throw new AppError('CURSOR_INVALID', 'Con trỏ phân trang không hợp lệ')
  }
}

/** Officers' task queues (hàng đợi công việc): list, claim, unclaim, complete. */
export function createTaskService(deps: {
  db: Db
  clock: Clock
  log: Logger
  tasks: TaskRepository
  instances: InstanceRepository
  versions: ProcedureVersionCache
  history: HistoryRepository
  steps: StepRunner
}) {
  const { db, clock, tasks } = deps

  function assertVisible(scope: TaskScope, id: string, t: TaskRow | undefined | null): asserts t is TaskRow {
    if (!t || !tasks.isVisible(t, scope)) throw new AppError('TASK_NOT_FOUND', `Không tìm thấy công việc ${id}`)
  }

  async function visibleTask(p: Principal, id: string): Promise<TaskRow> {
    const t = await tasks.find(db, id).one()
    assertVisible(taskScope(p), id, t)
    return t
  }

  /** Locks a task the caller may see; the transaction's BEGIN goes in the same message. */
  async function lockVisible(uow: UnitOfWork, p: Principal, id: string): Promise<TaskRow> {
    const scope = taskScope(p)
    const locked = uow.read(tasks.lock(uow.tx, id))
    await uow.flush()
    const t = locked.one()
    assertVisible(scope, id, t)
    return t
  }

  function assertOpen(t: TaskRow): void {
    if (t.status === 'completed')
      throw new AppError('TASK_ALREADY_COMPLETED', 'Công việc đã được hoàn thành', {
        completedBy: t.completed_by,
        completedAt: t.completed_at,
      })
    if (t.status === 'cancelled') throw new AppError('TASK_CANCELLED', 'Công việc đã bị hủy do quy trình chuyển bước', { status: t.status })
  }

  function assertMayAct(p: Principal, t: TaskRow): void {
    if (t.assignee && t.assignee !== p.userId && !hasRole(p, 'supervisor', 'admin')) {
      throw new AppError('TASK_CLAIMED_BY_OTHER', `Công việc đang do ${t.assignee} xử lý`, { assignee: t.assignee })
    }
  }

  const service = {
    async list(p: Principal, query: TaskQuery) {
      const rows = await tasks.list(db, taskScope(p), { ...query, limit: query.limit + 1 }).rows()
      const page = rows.slice(0, query.limit)
      return { items: page, nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!, query.sortBy) : null }
    },

    get: (p: Principal, id: string) => visibleTask(p, id),

    /** The task with its form (camunda:formData of its procedure version), null when it has none. */
    async getWithForm(p: Principal, id: string): Promise<{ task: TaskRow; form: TaskForm | null }> {
      const task = await visibleTask(p, id)
      const instance = await deps.instances.find(db, task.instance_id).one()
      const version = instance ? await deps.versions.get(db, instance.procedure_version_id) : null
      return { task, form: version?.user_tasks[task.activity_id]?.form ?? null }
    },

    /** Claims the task (nhận xử lý): two messages to Postgres, the lock with BEGIN, the writes with COMMIT. */
    async claim(p: Principal, id: string): Promise<TaskRow> {
      return transaction(db, async (uow) => {
        const t = await lockVisible(uow, p, id)
        authorize('task.work', p, taskResource(t))
        assertOpen(t)
        if (t.assignee === p.userId) return uow.finish(t)
        if (t.assignee) throw new AppError('TASK_CLAIMED_BY_OTHER', `Công việc đang do ${t.assignee} xử lý`, { assignee: t.assignee })
        const now = clock.now()
        return uow
          .write(tasks.setAssignee(uow.tx, id, p.userId, now))
          .write(
            deps.history.append(uow.tx, [
              { dossier_id: t.dossier_id, task_id: t.id, activity_id: t.activity_id, action: 'task.claimed', actor: p.userId, at: now },
            ]),
          )
          .commit({ ...t, assignee: p.userId, claimed_at: now })
      })
    },

    async unclaim(p: Principal, id: string): Promise<TaskRow> {
      return transaction(db, async (uow) => {
        const t = await lockVisible(uow, p, id)
        authorize('task.release', p, taskResource(t))
        assertOpen(t)
        if (!t.assignee) return uow.finish(t)
        assertMayAct(p, t)
        const now = clock.now()
        return uow
          .write(tasks.setAssignee(uow.tx, id, null, now))
          .write(
            deps.history.append(uow.tx, [
              { dossier_id: t.dossier_id, task_id: t.id, activity_id: t.activity_id, action: 'task.unclaimed', actor: p.userId, at: now },
            ]),
          )
          .commit({ ...t, assignee: null, claimed_at: null })
      })
    },

    /**
     * Completes the task and moves the process on. The step's locks (`lockForStep`) make concurrent
     * completions serialize, and exactly one wins.
     *
     * Two round trips: the BEGIN, the locks (found through the task id) and every read of the step in
     * one message; the step's writes and the COMMIT in the other. Visibility, state and claim are
     * checked on the locked task row, so a task the caller may not see changes nothing either.
     */
    async complete(p: Principal, id: string, variables: Record<string, unknown>, hooks: CompletionHooks = {}) {
      return finish(p, id, variables, null, hooks)
    },

    /**
     * Ends the task by throwing a BPMN error from it (Camunda 7's `bpmnError` on a task): the same
     * caller as a completion, one step, one transaction. The variables are set first; a boundary
     * error event on the task or an enclosing sub-process that matches the code (or catches all)
     * takes the process on. No catcher: BPMN_ERROR_NOT_CAUGHT and nothing is written.
     */
    async bpmnError(
      p: Principal,
      id: string,
      error: { errorCode: string; errorMessage: string | null; variables: Record<string, unknown> },
    ) {
      return finish(p, id, error.variables, { errorCode: error.errorCode, errorMessage: error.errorMessage }, {})
    },

    /**
     * Raises an escalation from the task (Camunda 7's `bpmnEscalation` on a task), same callers, one
     * step: an escalation boundary on the task or an enclosing sub-process, or an escalation event
     * sub-process, for that code catches it. A non-interrupting catcher leaves the task open; an
     * interrupting one cancels it. No catcher: ESCALATION_NOT_CAUGHT and nothing is written.
     */
    async bpmnEscalation(p: Principal, id: string, escalation: { escalationCode: string; variables: Record<string, unknown> }) {
      return finish(p, id, escalation.variables, { escalationCode: escalation.escalationCode }, {})
    },
  }

  async function finish(
    p: Principal,
    id: string,
    sent: Record<string, unknown>,
    error: { errorCode: string; errorMessage: string | null } | { escalationCode: string } | null,
    hooks: CompletionHooks,
  ) {
    const escalation = error && 'escalationCode' in error ? error : null
    const thrown = error && 'errorCode' in error ? error : null
    const scope = taskScope(p)
    const result = await transaction(db, async (uow) => {
      const locked = await deps.steps.lock(uow, { task: id })
      const t = locked.task
      assertVisible(scope, id, t)
      authorize(error ? 'task.throw' : 'task.work', p, taskResource(t))
      assertOpen(t)
      assertMayAct(p, t)
      const data = locked.dataFor(t.instance_id)!
      const { dossier } = data
      const version = await deps.steps.version(uow.tx, data.instance)
      // A completion's variables must satisfy the task's form (its defaults added) before anything is
      // written; a thrown error or escalation is not a completion of the form (as in Camunda 7).
      const variables = error ? sent : applyTaskForm(version.user_tasks[t.activity_id]?.form, sent)
      const now = clock.now()
      const extra = hooks.before ? hooks.before(uow, { task: t, dossier, version, now }) : []
      // The completion is written with the rest of the step, in the same round trip.
      // An escalation does not end the task: a non-interrupting catcher leaves it open, an interrupting one cancels it.
      if (!escalation) uow.write(tasks.complete(uow.tx, t.id, p.userId, variables, now))
      const outcome = await deps.steps.step(
        { uow, version, data: escalation ? data : { ...data, openTasks: data.openTasks.filter((o) => o.id !== t.id) } },
        escalation
          ? { kind: 'bpmnEscalation', activityId: t.activity_id, executionId: t.execution_id, variables, ...escalation }
          : thrown
            ? { kind: 'bpmnError', activityId: t.activity_id, executionId: t.execution_id, variables, ...thrown }
            : { kind: 'signal', activityId: t.activity_id, executionId: t.execution_id, variables },
        {
          actor: p.userId,
          now,
          fallbackStatus: dossier.status === 'ACCEPTED' || dossier.status === 'SUBMITTED_ONLINE' ? 'IN_PROCESS' : null,
          history: [
            {
              dossier_id: t.dossier_id,
              task_id: t.id,
              activity_id: t.activity_id,
              action: escalation ? 'task.bpmn-escalation' : error ? 'task.bpmn-error' : 'task.completed',
              actor: p.userId,
              details: error ? { ...error, variables } : { variables },
              at: now,
            },
            ...extra,
          ],
        },
      )
      if (hooks.after) hooks.after(uow, { task: t, dossier, version, now })
      return uow.commit({
        dossierId: t.dossier_id,
        status: outcome.status,
        ended: outcome.result.ended,
        next: escalation ? outcome.open : outcome.open.filter((o) => o.id !== t.id),
      })
    })
    return { dossierId: result.dossierId, dossierStatus: result.status, processEnded: result.ended, nextTasks: result.next }
  }

  return service
}
export type TaskService = ReturnType<typeof createTaskService>
