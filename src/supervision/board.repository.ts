import type { Knex } from 'knex'
import type { Queryable } from '../db/knex.ts'
import { read } from '../db/query.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { TaskRow } from '../records/task.repository.ts'

/**
 * The supervisors' board (bảng giám sát): SQL only. Counts read `supervision_daily` (kept by triggers
 * in the transaction of each change, migration 013) and the partial indexes of unfinished dossiers and
 * open tasks; every list reads one index in its sort order and stops after a page (keyset pagination).
 */

/** The figures of Today, each the name of the list behind it (GET /api/supervision/dossiers?figure=…). */
export const FIGURES = ['received', 'in_process', 'due_soon', 'overdue', 'resolved_early', 'resolved_on_time', 'resolved_late'] as const
export type Figure = (typeof FIGURES)[number]

export interface Scope {
  /** null: every agency (admins). */
  agency: string | null
  procedureCode?: string
}

export interface TodayRow {
  agency: string
  procedure_code: string
  received: number
  in_process: number
  due_soon: number
  overdue: number
  resolved_early: number
  resolved_on_time: number
  resolved_late: number
}

export interface ReportRow {
  key: string
  carried_over: number
  received: number
  online: number
  counter: number
  postal: number
  resolved: number
  resolved_early: number
  resolved_on_time: number
  resolved_late: number
  in_progress: number
}

export interface DailySums {
  received: number
  online: number
  counter: number
  postal: number
  finished: number
  early: number
  on_time: number
  late: number
  returned: number
  electronic_results: number
  paid_online: number
  digitised: number
  evaluated: number
  satisfied: number
}

export interface StepCountRow {
  activity_id: string
  open: number
  due_soon: number
  overdue: number
}

/** The columns a list row shows (a page reads these only: no form data, no bookkeeping timestamps). */
const LISTED_COLUMNS = [
  'id',
  'code',
  'procedure_code',
  'agency',
  'status',
  'channel',
  'applicant',
  'submitted_at',
  'appointment_at',
  'finished_at',
  'deadline_state',
  'outcome',
] as const
export type ListedDossier = Pick<DossierRow, Exclude<(typeof LISTED_COLUMNS)[number], 'outcome'>> & { outcome: string | null }

/** A keyset position: the sort column's value (ISO instant) and the row id. */
export interface Position {
  k: string
  id: string
}

const scoped = <T extends Knex.QueryBuilder>(qb: T, s: Scope, prefix = ''): T => {
  if (s.agency) qb.where(`${prefix}agency`, s.agency)
  if (s.procedureCode) qb.where(`${prefix}procedure_code`, s.procedureCode)
  return qb
}

/** The list behind a figure: its filter and its sort column and direction. */
function figureQuery(q: Queryable, figure: Figure, s: Scope, period: { start: Date; end: Date }) {
  const qb = scoped(q<ListedDossier>('dossiers'), s)
  switch (figure) {
    case 'received':
      return { qb: qb.whereBetween('submitted_at', [period.start, period.end]), column: 'submitted_at', desc: true }
    case 'in_process':
      return { qb: qb.whereNull('finished_at'), column: 'appointment_at', desc: false }
    case 'due_soon':
    case 'overdue':
      return {
        qb: qb.whereNull('finished_at').where('deadline_state', figure),
        column: 'appointment_at',
        desc: false,
      }
    default:
      return {
        qb: qb
          .whereNotNull('finished_at')
          .whereBetween('finished_at', [period.start, period.end])
          .where('outcome', figure.slice('resolved_'.length)),
        column: 'finished_at',
        desc: true,
      }
  }
}

export function createBoardRepository() {
  return {
    /** Received and resolved in the period (Vietnam days) by agency and procedure, from the daily counts. */
    dailyByProcedure: (q: Queryable, s: Scope, days: { from: string; to: string }) =>
      read<Pick<TodayRow, 'agency' | 'procedure_code' | 'received' | 'resolved_early' | 'resolved_on_time' | 'resolved_late'>>(
        scoped(q('supervision_daily'), s)
          .whereBetween('day', [days.from, days.to])
          .groupBy('agency', 'procedure_code')
          .select(
            'agency',
            'procedure_code',
            q.raw('sum(received)::int as received'),
            q.raw('sum(resolved_early)::int as resolved_early'),
            q.raw('sum(resolved_on_time)::int as resolved_on_time'),
            q.raw('sum(resolved_late)::int as resolved_late'),
          ),
      ),

    /** Unfinished dossiers now, by agency, procedure and deadline state (an index-only count). */
    openByProcedure: (q: Queryable, s: Scope) =>
      read<Pick<TodayRow, 'agency' | 'procedure_code' | 'in_process' | 'due_soon' | 'overdue'>>(
        scoped(q('dossiers'), s)
          .whereNull('finished_at')
          .groupBy('agency', 'procedure_code')
          .select(
            'agency',
            'procedure_code',
            q.raw('count(*)::int as in_process'),
            q.raw(`count(*) filter (where deadline_state = 'due_soon')::int as due_soon`),
            q.raw(`count(*) filter (where deadline_state = 'overdue')::int as overdue`),
          ),
      ),

    /** The 766 counts of dossiers received in the period (Vietnam days). */
    dailySums: (q: Queryable, s: Scope, days: { from: string; to: string }) =>
      read<DailySums>(
        scoped(q('supervision_daily'), s)
          .whereBetween('day', [days.from, days.to])
          .select(
            ...[
              'received',
              'online',
              'counter',
              'postal',
              'finished',
              'early',
              'on_time',
              'late',
              'returned',
              'electronic_results',
              'paid_online',
              'digitised',
              'evaluated',
              'satisfied',
            ].map((c) => q.raw(`coalesce(sum(${c}), 0)::int as ${c}`)),
          ),
      ),

    /**
     * The periodic report of TTHC results (báo cáo tình hình, kết quả giải quyết TTHC) by agency or
     * procedure: carried over from before the period, received (online, counter, post), resolved
     * (early, on time, late), still in progress at its end.
     */
    report: (q: Queryable, s: Scope, days: { from: string; to: string }, by: 'agency' | 'procedure_code') =>
      read<ReportRow>(
        scoped(q('supervision_daily'), s)
          .where('day', '<=', days.to)
          .groupBy(by)
          .orderBy(by)
          .select(
            q.raw('?? as key', [by]),
            q.raw(
              `coalesce(sum(received) filter (where day < ?), 0)::int - coalesce(sum(resolved) filter (where day < ?), 0)::int as carried_over`,
              [days.from, days.from],
            ),
            ...['received', 'online', 'counter', 'postal', 'resolved', 'resolved_early', 'resolved_on_time', 'resolved_late'].map((c) =>
              q.raw(`coalesce(sum(${c}) filter (where day >= ?), 0)::int as ${c}`, [days.from]),
            ),
            q.raw('(sum(received) - sum(resolved))::int as in_progress'),
          ),
      ),

    /** A procedure's version (the latest when `version` is absent): its id and user tasks' names. */
    version: (q: Queryable, code: string, version?: number) =>
      read<{ id: number; version: number; user_tasks: Record<string, { name: string }> }>(
        q('procedure_versions as v')
          .join('procedures as p', 'p.code', 'v.procedure_code')
          .where('v.procedure_code', code)
          .whereRaw('v.version = coalesce(?::int, p.latest_version)', [version ?? null])
          .select('v.id', 'v.version', 'v.user_tasks'),
      ),

    /** Open tasks, due soon and overdue per activity of one procedure version (the diagram's overlays). */
    stepCounts: (q: Queryable, s: Scope & { procedureCode: string }, versionId: number) =>
      read<StepCountRow>(
        scoped(q('tasks as t'), { agency: s.agency }, 't.')
          .where('t.procedure_version_id', versionId)
          .where('t.status', 'open')
          .groupBy('t.activity_id')
          .orderBy('t.activity_id')
          .select(
            't.activity_id',
            q.raw('count(*)::int as open'),
            q.raw(`count(*) filter (where t.deadline_state = 'due_soon')::int as due_soon`),
            q.raw(`count(*) filter (where t.deadline_state = 'overdue')::int as overdue`),
          ),
      ),

    /** One page of the dossiers behind a figure, after `after` in the figure's order. */
    dossiers: (q: Queryable, figure: Figure, s: Scope, period: { start: Date; end: Date }, page: { after?: Position; limit: number }) => {
      const { qb, column, desc } = figureQuery(q, figure, s, period)
      if (page.after) qb.whereRaw(`(??, id) ${desc ? '<' : '>'} (?::timestamptz, ?::uuid)`, [column, page.after.k, page.after.id])
      const order = desc ? 'desc' : 'asc'
      return {
        column: column as 'submitted_at' | 'appointment_at' | 'finished_at',
        rows: read<ListedDossier>(
          qb
            .orderBy([
              { column, order },
              { column: 'id', order },
            ])
            .limit(page.limit)
            .select(LISTED_COLUMNS),
        ),
      }
    },

    /** One page of open tasks due soon or overdue, by agency, procedure, step or officer, earliest due first. */
    lateTasks: (
      q: Queryable,
      s: Scope & { activityId?: string; assignee?: string; states: string[] },
      page: { after?: Position; limit: number },
    ) => {
      const qb = scoped(q<TaskRow & { dossier_code: string; appointment_at: Date | null }>('tasks as t'), s, 't.')
        .join('dossiers as d', 'd.id', 't.dossier_id')
        .where('t.status', 'open')
        .whereNot('t.deadline_state', 'on_track')
        .whereIn('t.deadline_state', s.states)
        .whereNotNull('t.due_at')
      if (s.activityId) qb.where('t.activity_id', s.activityId)
      if (s.assignee) qb.where('t.assignee', s.assignee)
      if (page.after) qb.whereRaw('(t.due_at, t.id) > (?::timestamptz, ?::uuid)', [page.after.k, page.after.id])
      return read<TaskRow & { dossier_code: string; appointment_at: Date | null }>(
        qb
          .orderBy([
            { column: 't.due_at', order: 'asc' },
            { column: 't.id', order: 'asc' },
          ])
          .limit(page.limit)
          .select('t.*', 'd.code as dossier_code', 'd.appointment_at'),
      )
    },
  }
}
export type BoardRepository = ReturnType<typeof createBoardRepository>
