import type { Logger } from 'pino'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize, taskResource, taskScope } from '../auth/policy.ts'
import type { HistoryEntry, HistoryRepository } from '../history/history.repository.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import type { Tx } from '../db/knex.ts'
import { StatementBatch } from '../db/statement-batch.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { InstanceRepository, InstanceRow } from '../instances/instance.repository.ts'
import type { InstanceService } from '../instances/instance.service.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { TaskQuery, TaskRepository, TaskRow, TaskScope } from './task.repository.ts'
import type { TimerRepository, TimerRow } from '../timers/timer.repository.ts'
import type { AlarmRepository, AlarmRow } from '../deadlines/alarm.repository.ts'

/** What a lifecycle action adds to a completion, inside its transaction (after the locks, before/after the step). */
export interface CompletionHooks {
  before?: (tx: Tx, ctx: { task: TaskRow; dossier: DossierRow; version: ProcedureVersionRow; now: Date }) => Promise<HistoryEntry[]>
  after?: (tx: Tx, ctx: { task: TaskRow; dossier: DossierRow; version: ProcedureVersionRow; now: Date }) => Promise<void>
}

export { taskScope }

export function encodeCursor(task: TaskRow, sortBy: TaskQuery['sortBy']): string {
  const v = sortBy === 'due' ? task.due_at : task.created_at
  return Buffer.from(JSON.stringify({ v: v ? new Date(v).toISOString() : null, id: task.id })).toString('base64url')
}

export function decodeCursor(cursor: string): { v: string | null; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id) || (c.v !== null && Number.isNaN(Date.parse(c.v)))) throw new Error('shape')
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
  dossiers: DossierRepository
  versions: ProcedureVersionCache
  history: HistoryRepository
  timers: TimerRepository
  alarms: AlarmRepository
  instanceService: InstanceService
}) {
  const { db, clock, tasks } = deps

  function assertVisible(scope: TaskScope, id: string, t: TaskRow | undefined | null): asserts t is TaskRow {
    if (!t || !tasks.isVisible(t, scope)) throw new AppError('TASK_NOT_FOUND', `Không tìm thấy công việc ${id}`)
  }

  async function visibleTask(p: Principal, id: string): Promise<TaskRow> {
    const t = await tasks.find(db, id)
    assertVisible(taskScope(p), id, t)
    return t
  }

  /** Locks a task the caller may see; the transaction's BEGIN goes in the same message. */
  async function lockVisible(tx: Tx, p: Principal, id: string): Promise<TaskRow> {
    const scope = taskScope(p)
    const reads = new StatementBatch()
    const at = reads.read(tasks.lockQuery(tx, id))
    const t = (await reads.flush(tx))[at]![0] as TaskRow | undefined
    assertVisible(scope, id, t)
    return t
  }

  function assertOpen(t: TaskRow): void {
    if (t.status === 'completed') throw new AppError('TASK_ALREADY_COMPLETED', 'Công việc đã được hoàn thành', { completedBy: t.completed_by, completedAt: t.completed_at })
    if (t.status === 'cancelled') throw new AppError('TASK_ALREADY_COMPLETED', 'Công việc đã bị hủy do quy trình chuyển bước', { status: t.status })
  }

  function assertMayAct(p: Principal, t: TaskRow): void {
    if (t.assignee && t.assignee !== p.userId && !hasRole(p, 'supervisor', 'admin')) {
      throw new AppError('TASK_CLAIMED_BY_OTHER', `Công việc đang do ${t.assignee} xử lý`, { assignee: t.assignee })
    }
  }

  return {
    async list(p: Principal, query: TaskQuery) {
      const rows = await tasks.list(db, taskScope(p), { ...query, limit: query.limit + 1 })
      const page = rows.slice(0, query.limit)
      return { items: page, nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!, query.sortBy) : null }
    },

    get: (p: Principal, id: string) => visibleTask(p, id),

    /** Claims the task (nhận xử lý): two messages to Postgres, the lock with BEGIN, the writes with COMMIT. */
    async claim(p: Principal, id: string): Promise<TaskRow> {
      return db.transaction(async (tx) => {
        const t = await lockVisible(tx, p, id)
        authorize('task.work', p, taskResource(t))
        assertOpen(t)
        if (t.assignee === p.userId) return t
        if (t.assignee) throw new AppError('TASK_CLAIMED_BY_OTHER', `Công việc đang do ${t.assignee} xử lý`, { assignee: t.assignee })
        const now = clock.now()
        await new StatementBatch()
          .add(tasks.setAssignee(tx, id, p.userId, now))
          .add(deps.history.append(tx, [{ dossier_id: t.dossier_id, task_id: t.id, activity_id: t.activity_id, action: 'task.claimed', actor: p.userId, at: now }]))
          .flush(tx, { commit: true })
        return { ...t, assignee: p.userId, claimed_at: now }
      })
    },

    async unclaim(p: Principal, id: string): Promise<TaskRow> {
      return db.transaction(async (tx) => {
        const t = await lockVisible(tx, p, id)
        authorize('task.release', p, taskResource(t))
        assertOpen(t)
        if (!t.assignee) return t
        assertMayAct(p, t)
        const now = clock.now()
        await new StatementBatch()
          .add(tasks.setAssignee(tx, id, null, now))
          .add(deps.history.append(tx, [{ dossier_id: t.dossier_id, task_id: t.id, activity_id: t.activity_id, action: 'task.unclaimed', actor: p.userId, at: now }]))
          .flush(tx, { commit: true })
        return { ...t, assignee: null, claimed_at: null }
      })
    },

    /**
     * Completes the task and moves the process on. The instance row is locked first (every writer
     * of tasks does the same), so concurrent completions serialize and exactly one wins.
     *
     * Two round trips: the BEGIN, the locks (found through the task id) and every read of the step in
     * one message; the step's writes and the COMMIT in the other. Visibility, state and claim are
     * checked on the locked task row, so a task the caller may not see changes nothing either.
     */
    async complete(p: Principal, id: string, variables: Record<string, unknown>, hooks: CompletionHooks = {}) {
      const scope = taskScope(p)
      const result = await db.transaction(async (tx) => {
        // The locks in the order every writer takes them (instance, task, dossier), then what the
        // step reads (open tasks, pending timers, live deadline alarms).
        const ofTask = (column: 'instance_id' | 'dossier_id') => tx('tasks').select(column).where({ id })
        const reads = new StatementBatch()
        const at = {
          instance: reads.read(deps.instances.lockQuery(tx, ofTask('instance_id'))),
          task: reads.read(tasks.lockQuery(tx, id)),
          dossier: reads.read(deps.dossiers.lockQuery(tx, ofTask('dossier_id'))),
          open: reads.read(tasks.openForInstance(tx, ofTask('instance_id'))),
          timers: reads.read(deps.timers.pendingForInstancesQuery(tx, ofTask('instance_id'))),
          alarms: reads.read(deps.alarms.liveForDossiersQuery(tx, ofTask('dossier_id'))),
        }
        const rows = await reads.flush(tx)
        const t = rows[at.task]![0] as TaskRow | undefined
        assertVisible(scope, id, t)
        authorize('task.work', p, taskResource(t))
        assertOpen(t)
        assertMayAct(p, t)
        const instance = rows[at.instance]![0] as InstanceRow
        const dossier = rows[at.dossier]![0] as DossierRow
        const version = await deps.versions.get(tx, instance.procedure_version_id)
        const now = clock.now()
        const extra = hooks.before ? await hooks.before(tx, { task: t, dossier, version, now }) : []
        // The completion is written with the rest of the step, in the same round trip.
        const batch = new StatementBatch().add(tasks.complete(tx, t.id, p.userId, variables, now))
        const known = { timers: rows[at.timers] as TimerRow[], alarms: rows[at.alarms] as AlarmRow[] }
        const outcome = await deps.instanceService.step(tx, { instance, version, dossier, known }, { kind: 'signal', activityId: t.activity_id, executionId: t.execution_id, variables }, {
          actor: p.userId,
          now,
          batch,
          open: (rows[at.open] as TaskRow[]).filter((o) => o.id !== t.id),
          fallbackStatus: dossier.status === 'ACCEPTED' || dossier.status === 'SUBMITTED_ONLINE' ? 'IN_PROCESS' : null,
          commit: !hooks.after,
          history: [{ dossier_id: t.dossier_id, task_id: t.id, activity_id: t.activity_id, action: 'task.completed', actor: p.userId, details: { variables }, at: now }, ...extra],
        })
        if (hooks.after) await hooks.after(tx, { task: t, dossier, version, now })
        return { dossierId: t.dossier_id, status: outcome.status, ended: outcome.result.ended, next: outcome.open.filter((o) => o.id !== t.id) }
      })
      return { dossierId: result.dossierId, dossierStatus: result.status, processEnded: result.ended, nextTasks: result.next }
    },
  }
}
export type TaskService = ReturnType<typeof createTaskService>
