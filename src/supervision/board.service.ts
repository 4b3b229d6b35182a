import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize, type Permission } from '../auth/policy.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { receiptPeriod } from './indicators.ts'
import { workingMinutesLeft } from '../calendar/working-time.ts'
import {
  FIGURES,
  type BoardRepository,
  type Figure,
  type ListedDossier,
  type Position,
  type Scope,
  type TodayRow,
} from './board.repository.ts'

export function encodePosition(k: Date | string | null | undefined, id: string): string {
  return Buffer.from(JSON.stringify({ k: new Date(k ?? 0).toISOString(), id })).toString('base64url')
}

export function decodePosition(cursor: string): Position {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id) || typeof c.k !== 'string' || Number.isNaN(Date.parse(c.k)))
      throw new Error('shape')
    return { k: c.k, id: c.id }
  } catch {
    throw new AppError('CURSOR_INVALID', 'Con trỏ phân trang không hợp lệ')
  }
}

export interface PeriodQuery {
  from?: string
  to?: string
}

export interface DossierListQuery extends PeriodQuery {
  figure: Figure
  agency?: string
  procedureCode?: string
  limit: number
  cursor?: string
}

export interface TaskListQuery {
  state: 'overdue' | 'due_soon' | 'all'
  agency?: string
  procedureCode?: string
  activityId?: string
  assignee?: string
  limit: number
  cursor?: string
}

/** Figures that count dossiers received or resolved in a period need one; the others are a snapshot of now. */
const PERIOD_FIGURES: ReadonlySet<Figure> = new Set(['received', 'resolved_early', 'resolved_on_time', 'resolved_late'])

/**
 * The supervisors' board (bảng giám sát) behind the console: Today's counts, the lists behind them,
 * late tasks by step and officer, a version's step counts, the periodic report. Supervisors see their
 * agency; admins any agency (`agency`) or all of them.
 */
export function createBoardService(deps: { db: Db; clock: Clock; calendar: () => WorkingCalendar; repo: BoardRepository }) {
  const scope = (permission: Permission, p: Principal, q: { agency?: string; procedureCode?: string }): Scope => {
    authorize(permission, p, { agency: q.agency ?? p.agency })
    return { agency: hasRole(p, 'admin') ? (q.agency ?? null) : p.agency, procedureCode: q.procedureCode }
  }
  const days = (q: PeriodQuery) => {
    const from = q.from ?? q.to,
      to = q.to ?? q.from
    const period = from && to ? receiptPeriod(from, to) : null
    if (!from || !to || !period) throw new AppError('VALIDATION_FAILED', 'Khoảng ngày không hợp lệ (cần from ≤ to)')
    return { from, to, ...period }
  }
  /** Working minutes before a deadline (negative: how late it already is). */
  const minutesLeft = (deadline: Date | string | null | undefined) => {
    if (!deadline) return null
    return Math.round(workingMinutesLeft(deps.calendar(), deps.clock.now(), new Date(deadline)))
  }

  const dossierPage = async (s: Scope, q: DossierListQuery, limit: number, after?: Position) => {
    const period = PERIOD_FIGURES.has(q.figure) ? days(q) : { start: new Date(0), end: new Date(0) }
    const { column, rows } = deps.repo.dossiers(deps.db, q.figure, s, period, { after, limit: limit + 1 })
    const all = await rows
    const page = all.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map((d) => ({ dossier: d, workingMinutesLeft: d.finished_at ? null : minutesLeft(d.appointment_at) })),
      next: all.length > limit && last ? { k: new Date(last[column] ?? 0).toISOString(), id: last.id } : null,
    }
  }

  const taskStates = (state: TaskListQuery['state']) => (state === 'all' ? ['overdue', 'due_soon'] : [state])
  const taskPage = async (s: Scope, q: TaskListQuery, limit: number, after?: Position) => {
    const all = await deps.repo.lateTasks(
      deps.db,
      { ...s, activityId: q.activityId, assignee: q.assignee, states: taskStates(q.state) },
      { after, limit: limit + 1 },
    )
    const page = all.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map((t) => ({ task: t, workingMinutesLeft: minutesLeft(t.due_at) })),
      next: all.length > limit && last ? { k: new Date(last.due_at!).toISOString(), id: last.id } : null,
    }
  }

  return {
    /**
     * Today (hôm nay): per agency and procedure, dossiers received and resolved early / on time / late
     * in the period, and those unfinished now (in process, due soon, overdue).
     */
    /**
     * Rows by agency and procedure (`groupBy=procedure`, the default), or one row per agency
     * (`groupBy=agency`, procedure_code null): a province's agencies times its procedures would be
     * thousands of rows, so the province-wide view groups by agency and each agency opens its own.
     */
    async today(p: Principal, q: PeriodQuery & { agency?: string; procedureCode?: string; groupBy?: 'agency' | 'procedure' }) {
      const s = scope('supervision.view', p, q)
      const d = days(q)
      const [daily, open] = await Promise.all([deps.repo.dailyByProcedure(deps.db, s, d), deps.repo.openByProcedure(deps.db, s)])
      const byAgency = q.groupBy === 'agency'
      const rows = new Map<string, Omit<TodayRow, 'procedure_code'> & { procedure_code: string | null }>()
      const zero = { received: 0, in_process: 0, due_soon: 0, overdue: 0, resolved_early: 0, resolved_on_time: 0, resolved_late: 0 }
      for (const r of [...daily, ...open]) {
        const key = byAgency ? r.agency : `${r.agency}\u0000${r.procedure_code}`
        const row = rows.get(key) ?? { ...zero, agency: r.agency, procedure_code: byAgency ? null : r.procedure_code }
        for (const f of FIGURES) row[f] += (r as Partial<Record<Figure, number>>)[f] ?? 0
        rows.set(key, row)
      }
      const list = [...rows.values()]
        .filter((r) => FIGURES.some((f) => r[f] !== 0))
        .sort((a, b) => a.agency.localeCompare(b.agency) || (a.procedure_code ?? '').localeCompare(b.procedure_code ?? ''))
      const totals = Object.fromEntries(FIGURES.map((f) => [f, list.reduce((n, r) => n + r[f], 0)])) as Record<Figure, number>
      return { period: { from: d.from, to: d.to }, agency: s.agency, rows: list, totals }
    },

    async dossiers(p: Principal, q: DossierListQuery) {
      const s = scope('supervision.view', p, q)
      return dossierPage(s, q, q.limit, q.cursor ? decodePosition(q.cursor) : undefined)
    },

    async tasks(p: Principal, q: TaskListQuery) {
      const s = scope('supervision.view', p, q)
      return taskPage(s, q, q.limit, q.cursor ? decodePosition(q.cursor) : undefined)
    },

    /** Open, due-soon and overdue tasks per step of one version (the latest by default), for the diagram's overlays. */
    async steps(p: Principal, q: { procedureCode: string; version?: number; agency?: string }) {
      const s = scope('supervision.view', p, q)
      const [v] = await deps.repo.version(deps.db, q.procedureCode, q.version)
      if (!v) throw new AppError('PROCEDURE_VERSION_NOT_FOUND', 'Không tìm thấy phiên bản thủ tục')
      const counts = new Map(
        (await deps.repo.stepCounts(deps.db, { ...s, procedureCode: q.procedureCode }, v.id)).map((r) => [r.activity_id, r]),
      )
      const steps = Object.entries(v.user_tasks).map(([activityId, spec]) => {
        const c = counts.get(activityId)
        return { activityId, name: spec.name, open: c?.open ?? 0, dueSoon: c?.due_soon ?? 0, overdue: c?.overdue ?? 0 }
      })
      // Tasks of activities no longer in the version's user tasks still count (an element id the diagram shows).
      for (const [activityId, c] of counts)
        if (!v.user_tasks[activityId]) steps.push({ activityId, name: activityId, open: c.open, dueSoon: c.due_soon, overdue: c.overdue })
      return { procedureCode: q.procedureCode, version: v.version, agency: s.agency, steps }
    },

    /** The periodic report of TTHC results, one row per agency or per procedure, with a total. */
    async report(p: Principal, q: PeriodQuery & { agency?: string; procedureCode?: string; groupBy: 'agency' | 'procedure' }) {
      const s = scope('supervision.view', p, q)
      const d = days(q)
      const rows = await deps.repo.report(deps.db, s, d, q.groupBy === 'agency' ? 'agency' : 'procedure_code')
      const keys = [
        'carried_over',
        'received',
        'online',
        'counter',
        'postal',
        'resolved',
        'resolved_early',
        'resolved_on_time',
        'resolved_late',
        'in_progress',
      ] as const
      const total = Object.fromEntries(keys.map((k) => [k, rows.reduce((n, r) => n + r[k], 0)])) as Record<(typeof keys)[number], number>
      return { period: { from: d.from, to: d.to }, agency: s.agency, groupBy: q.groupBy, rows, total }
    },

    /** Every dossier behind a figure, page by page (for exports: no more than a batch in memory). */
    async *allDossiers(p: Principal, q: Omit<DossierListQuery, 'limit' | 'cursor'>, batch = 1000) {
      const s = scope('supervision.export', p, q)
      let after: Position | undefined
      for (;;) {
        const page = await dossierPage(s, { ...q, limit: batch }, batch, after)
        yield page.items
        if (!page.next) return
        after = page.next
      }
    },

    async *allTasks(p: Principal, q: Omit<TaskListQuery, 'limit' | 'cursor'>, batch = 1000) {
      const s = scope('supervision.export', p, q)
      let after: Position | undefined
      for (;;) {
        const page = await taskPage(s, { ...q, limit: batch }, batch, after)
        yield page.items
        if (!page.next) return
        after = page.next
      }
    },

    /** Checks the export permission before a reply starts streaming. */
    authorizeExport(p: Principal, q: { agency?: string }) {
      scope('supervision.export', p, q)
    },
  }
}
export type BoardService = ReturnType<typeof createBoardService>
export type { ListedDossier }
