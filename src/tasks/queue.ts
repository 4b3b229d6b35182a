import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db, Queryable } from '../db/knex.ts'
import { read } from '../db/query.ts'
import { authorize } from '../auth/policy.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import type { TaskRow } from '../records/task.repository.ts'
import { workingMinutesLeft } from '../calendar/working-time.ts'
import { decodeCursor } from './task.service.ts'

/** Open tasks without a due date sort after every dated one. */
const FAR_FUTURE = '9999-12-31T00:00:00Z'

export type QueuedTask = TaskRow & { dossier_code: string }

/** Whose queue: an agency (null: every agency, admins only) and the officer it is for (null: every open task of it). */
export interface QueueScope {
  agency: string | null
  member: { userId: string; groups: string[] } | null
}

/**
 * The open tasks of an officer's queue: held by them, or unclaimed and offered to them (a candidate
 * user, or one of their candidate groups); earliest due date first (undated last), one keyset page.
 */
export function queueRows(q: Queryable, scope: QueueScope, page: { limit: number; after?: { v: string | null; id: string } }) {
  const due = `coalesce(t.due_at, '${FAR_FUTURE}'::timestamptz)`
  const query = q('tasks as t').join('dossiers as d', 'd.id', 't.dossier_id').where('t.status', 'open')
  if (scope.agency !== null) void query.where('t.agency', scope.agency)
  const m = scope.member
  if (m)
    void query.whereRaw(
      '(t.assignee = ? OR (t.assignee IS NULL AND (t.candidate_users @> ARRAY[?]::text[] OR t.candidate_groups && ?::text[])))',
      [m.userId, m.userId, m.groups],
    )
  if (page.after) void query.whereRaw(`(${due}, t.id) > (?::timestamptz, ?::uuid)`, [page.after.v ?? FAR_FUTURE, page.after.id])
  return read<QueuedTask>(query.orderByRaw(`${due}, t.id`).limit(page.limit).select('t.*', 'd.code as dossier_code'))
}

export function encodeQueueCursor(t: TaskRow): string {
  return Buffer.from(JSON.stringify({ v: t.due_at ? new Date(t.due_at).toISOString() : null, id: t.id })).toString('base64url')
}

/**
 * An officer's own task queue (hàng đợi của tôi), the console's home for officers: what they hold or
 * may claim in their agency, with the dossier's code and the working time left before each step is due
 * (negative: how late it is). An admin sees every open task of `agency` (or of every agency).
 */
export function createTaskQueue(deps: { db: Db; clock: Clock; calendar: () => WorkingCalendar }) {
  return {
    async page(p: Principal, q: { agency?: string; limit: number; cursor?: string }) {
      const agency = q.agency ?? p.agency
      authorize('task.queue', p, { agency })
      const admin = hasRole(p, 'admin')
      const scope: QueueScope = admin
        ? { agency: q.agency ?? null, member: null }
        : { agency, member: { userId: p.userId, groups: p.groups } }
      const after = q.cursor ? decodeCursor(q.cursor) : undefined
      const rows = await queueRows(deps.db, scope, { limit: q.limit + 1, after })
      const items = rows.slice(0, q.limit)
      const now = deps.clock.now()
      const cal = deps.calendar()
      return {
        items: items.map((t) => ({
          task: t,
          dossierCode: t.dossier_code,
          workingMinutesLeft: t.due_at ? Math.round(workingMinutesLeft(cal, now, new Date(t.due_at))) : null,
        })),
        nextCursor: rows.length > q.limit ? encodeQueueCursor(items[items.length - 1]!) : null,
      }
    },
  }
}
export type TaskQueue = ReturnType<typeof createTaskQueue>
