import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

export interface TaskRow {
  id: string
  instance_id: string
  dossier_id: string
  procedure_code: string
  agency: string
  activity_id: string
  execution_id: string
  name: string
  candidate_groups: string[]
  candidate_users: string[]
  assignee: string | null
  form_key: string | null
  due_at: Date | null
  /** Follow-up date (camunda:followUpDate): when to look at the task again; it does not make the task late. */
  follow_up_at: Date | null
  status: 'open' | 'completed' | 'cancelled'
  variables: Record<string, unknown> | null
  completed_by: string | null
  created_at: Date
  claimed_at: Date | null
  completed_at: Date | null
  /** on_track | due_soon | overdue, set by the deadline watch. */
  deadline_state?: string
}

export type NewTask = Omit<TaskRow, 'status' | 'variables' | 'completed_by' | 'claimed_at' | 'completed_at'>

/** Which tasks a caller may see: `agency: null` = every agency; `member` = the officer's identity for group/user matching. */
export interface TaskScope {
  agency: string | null
  member: { userId: string; groups: string[] } | null
}

export interface TaskQuery {
  candidateGroup?: string
  assignee?: string
  unassigned?: boolean
  procedureCode?: string
  dossierId?: string
  dueBefore?: Date
  dueAfter?: Date
  followUpBefore?: Date
  followUpAfter?: Date
  status: TaskRow['status']
  sortBy: 'created' | 'due' | 'followUp'
  sortOrder: 'asc' | 'desc'
  limit: number
  after?: { v: string | null; id: string }
}

const FAR_FUTURE = '9999-12-31T00:00:00Z'

function applyScope(query: Knex.QueryBuilder, scope: TaskScope): void {
  if (scope.agency !== null) query.where('agency', scope.agency)
  const member = scope.member
  if (member) {
    query.where((w) => {
      w.where('assignee', member.userId).orWhereRaw('candidate_users @> ARRAY[?]::text[]', [member.userId])
      if (member.groups.length) w.orWhereRaw('candidate_groups && ?::text[]', [member.groups])
    })
  }
}

/** Officers' tasks (công việc): queries, run alone (`await`) or in a unit of work. */
export function createTaskRepository() {
  return {
    insertMany: (q: Queryable, tasks: NewTask[]) =>
      write(tasks.length ? q('tasks').insert(tasks.map((t) => ({ ...t, status: 'open' }))) : null),
    find: (q: Queryable, id: string) => read<TaskRow>(q('tasks').where({ id }).select('*')),
    lock: (q: Queryable, id: string) => read<TaskRow>(q('tasks').where({ id }).forNoKeyUpdate().select('*')),
    /**
     * Open tasks of the dossiers' instances (ids, or a subquery that selects them), of only `instanceIds`
     * when given, by instance then id (a stable order to compare). Found through the dossier (its own
     * handful of tasks), never through the instance: a task's dossier is its instance's.
     */
    openForInstances: (q: Queryable, scope: { dossiers: string[] | Knex.QueryBuilder; instances?: string[] }) => {
      const rows = q('tasks').whereIn('dossier_id', scope.dossiers).where({ status: 'open' })
      if (scope.instances) void rows.whereIn('instance_id', scope.instances)
      return read<TaskRow>(rows.orderBy(['instance_id', 'id']).select('*'))
    },
    /** Open tasks of several dossiers in one query (list views). */
    openForDossiers: (q: Queryable, dossierIds: string[]) =>
      read<TaskRow>(q('tasks').whereIn('dossier_id', dossierIds).where({ status: 'open' }).orderBy('created_at').select('*')),
    openForDossier: (q: Queryable, dossierId: string) =>
      read<TaskRow>(q('tasks').where({ dossier_id: dossierId, status: 'open' }).orderBy('created_at').select('*')),
    /** Open tasks with a due date created before `before` (tasks of the current step are excluded). */
    openWithDueDate: (q: Queryable, dossierId: string, before: Date) =>
      read<Pick<TaskRow, 'id' | 'due_at'>>(
        q('tasks')
          .where({ dossier_id: dossierId, status: 'open' })
          .where('created_at', '<', before)
          .whereNotNull('due_at')
          .select('id', 'due_at'),
      ),
    setDeadlineState: (q: Queryable, id: string, state: string) => write(q('tasks').where({ id }).update({ deadline_state: state })),
    setDueDate: (q: Queryable, id: string, due: Date) => write(q('tasks').where({ id }).update({ due_at: due })),
    setAssignee: (q: Queryable, id: string, assignee: string | null, now: Date) =>
      write(
        q('tasks')
          .where({ id })
          .update({ assignee, claimed_at: assignee ? now : null }),
      ),
    complete: (q: Queryable, id: string, by: string, variables: Record<string, unknown>, now: Date) =>
      write(
        q('tasks')
          .where({ id, status: 'open' })
          .update({ status: 'completed', completed_by: by, completed_at: now, variables: JSON.stringify(variables), assignee: by }),
      ),
    cancel: (q: Queryable, ids: string[], now: Date) =>
      write(ids.length ? q('tasks').whereIn('id', ids).where({ status: 'open' }).update({ status: 'cancelled', completed_at: now }) : null),
    isVisible(task: TaskRow, scope: TaskScope): boolean {
      if (scope.agency !== null && task.agency !== scope.agency) return false
      const m = scope.member
      if (!m) return true
      return (
        task.assignee === m.userId || task.candidate_users.includes(m.userId) || task.candidate_groups.some((g) => m.groups.includes(g))
      )
    },
    list: (q: Queryable, scope: TaskScope, f: TaskQuery) => {
      const sortExpr =
        f.sortBy === 'created' ? 'created_at' : `coalesce(${f.sortBy === 'due' ? 'due_at' : 'follow_up_at'}, '${FAR_FUTURE}'::timestamptz)`
      const query = q<TaskRow>('tasks').where('status', f.status)
      applyScope(query, scope)
      if (f.candidateGroup) query.whereRaw('candidate_groups @> ARRAY[?]::text[]', [f.candidateGroup])
      if (f.assignee) query.where('assignee', f.assignee)
      if (f.unassigned) query.whereNull('assignee')
      if (f.procedureCode) query.where('procedure_code', f.procedureCode)
      if (f.dossierId) query.where('dossier_id', f.dossierId)
      if (f.dueBefore) query.where('due_at', '<', f.dueBefore)
      if (f.dueAfter) query.where('due_at', '>', f.dueAfter)
      if (f.followUpBefore) query.where('follow_up_at', '<', f.followUpBefore)
      if (f.followUpAfter) query.where('follow_up_at', '>', f.followUpAfter)
      if (f.after) {
        const op = f.sortOrder === 'asc' ? '>' : '<'
        query.whereRaw(`(${sortExpr}, id) ${op} (?::timestamptz, ?::uuid)`, [f.after.v ?? FAR_FUTURE, f.after.id])
      }
      return read<TaskRow>(query.orderByRaw(`${sortExpr} ${f.sortOrder}, id ${f.sortOrder}`).limit(f.limit).select('*'))
    },
  }
}
export type TaskRepository = ReturnType<typeof createTaskRepository>
