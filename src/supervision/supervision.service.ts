import { hasRole, type Principal } from '../auth/principal.ts'
import { authorize } from '../auth/policy.ts'
import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db } from '../db/knex.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import { AppError } from '../errors.ts'
import type { TaskRepository } from '../records/task.repository.ts'
import { taskDeadlineView } from '../deadlines/outcome.ts'
import { indicatorsOf, receiptPeriod } from './indicators.ts'
import { workingMinutesLeft } from '../calendar/working-time.ts'
import type { SupervisionRepository } from './supervision.repository.ts'
import { createBoardRepository } from './board.repository.ts'
import { createBoardService } from './board.service.ts'

export function encodeDeadlineCursor(d: DossierRow): string {
  return Buffer.from(JSON.stringify({ a: new Date(d.appointment_at!).toISOString(), id: d.id })).toString('base64url')
}

export function decodeDeadlineCursor(cursor: string): { appointmentAt: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id) || typeof c.a !== 'string' || Number.isNaN(Date.parse(c.a)))
      throw new Error('shape')
    return { appointmentAt: c.a, id: c.id }
  } catch {
    throw new AppError('CURSOR_INVALID', 'Con trỏ phân trang không hợp lệ')
  }
}

/**
 * Supervisors' view (giám sát): dossiers that are overdue (quá hạn) or due soon (sắp đến hạn), and the
 * service-quality indicators. Supervisors see their agency; admins any agency, or all.
 */
export function createSupervisionService(deps: {
  db: Db
  clock: Clock
  calendar: () => WorkingCalendar
  dossiers: DossierRepository
  tasks: TaskRepository
  repo: SupervisionRepository
}) {
  return {
    /** Today, the lists behind its figures, step counts, the periodic report, exports (board.service.ts). */
    board: createBoardService({ db: deps.db, clock: deps.clock, calendar: deps.calendar, repo: createBoardRepository() }),
    /** The indicators for dossiers received between `from` and `to` (dates, Vietnam time). */
    async indicators(p: Principal, q: { from: string; to: string; agency?: string }) {
      authorize('supervision.view', p, { agency: q.agency ?? p.agency })
      const agency = hasRole(p, 'admin') ? (q.agency ?? null) : p.agency
      const period = receiptPeriod(q.from, q.to)
      if (!period) throw new AppError('VALIDATION_FAILED', 'Khoảng ngày không hợp lệ (from ≤ to)')
      return indicatorsOf(await deps.repo.indicatorCounts(deps.db, { agency, from: q.from, to: q.to }), { from: q.from, to: q.to }, agency)
    },
    async deadlines(p: Principal, opts: { states: string[]; procedureCode?: string; cursor?: string; limit: number; agency?: string }) {
      authorize('supervision.view', p, { agency: opts.agency ?? p.agency })
      const agency = hasRole(p, 'admin') ? (opts.agency ?? null) : p.agency
      const rows = await deps.dossiers.listByDeadlineState(deps.db, {
        agency,
        states: opts.states,
        procedureCode: opts.procedureCode,
        after: opts.cursor ? decodeDeadlineCursor(opts.cursor) : undefined,
        limit: opts.limit + 1,
      })
      const page = rows.slice(0, opts.limit)
      const now = deps.clock.now()
      const cal = deps.calendar()
      const openTasks = await deps.tasks.openForDossiers(
        deps.db,
        page.map((d) => d.id),
      )
      const items = page.map((d) => {
        const appointment = new Date(d.appointment_at!)
        const open = openTasks.filter((t) => t.dossier_id === d.id)
        return {
          dossier: d,
          // Working time left before the appointment (negative: how late it already is).
          workingMinutesLeft: workingMinutesLeft(cal, now, appointment),
          openTasks: open.map((t) => ({
            id: t.id,
            name: t.name,
            assignee: t.assignee,
            candidateGroups: t.candidate_groups,
            due: t.due_at,
            deadlineState: taskDeadlineView(t),
          })),
        }
      })
      return { items, nextCursor: rows.length > opts.limit ? encodeDeadlineCursor(page[page.length - 1]!) : null }
    },
  }
}
export type SupervisionService = ReturnType<typeof createSupervisionService>
