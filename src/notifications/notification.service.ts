import { hasRole, type Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import type { NotificationRepository, NotificationRow } from './notification.repository.ts'
import { vietnamClock, vietnamDate } from '../calendar/vietnam-time.ts'

/** A deadline alarm that fired, as the notification describes it. */
export interface DeadlineEvent {
  eventId: string
  kind: 'due_soon' | 'overdue'
  dossierId: string
  code: string
  agency: string
  taskId: string | null
  taskName: string | null
  groups: string[]
  assignee: string | null
  deadlineAt: string
}

/** "HH:MM ngày dd/mm/yyyy" in Vietnam time. */
export function formatVietnamTime(iso: string): string {
  return `${vietnamClock(iso)} ngày ${vietnamDate(iso)}`
}

export function deadlineMessage(e: DeadlineEvent): string {
  const when = formatVietnamTime(e.deadlineAt)
  if (e.taskId) {
    return e.kind === 'overdue'
      ? `Bước «${e.taskName}» của hồ sơ ${e.code} đã quá hạn xử lý (hạn ${when}).`
      : `Bước «${e.taskName}» của hồ sơ ${e.code} sắp đến hạn xử lý (hạn ${when}).`
  }
  return e.kind === 'overdue'
    ? `Hồ sơ ${e.code} đã quá hạn trả kết quả (hẹn trả ${when}).`
    : `Hồ sơ ${e.code} sắp đến hạn trả kết quả (hẹn trả ${when}).`
}

/** The notification row of a deadline event: for the task's assignee and groups, or the whole agency for a dossier's appointment. */
export function deadlineNotification(e: DeadlineEvent, now: Date): Omit<NotificationRow, 'id'> {
  return {
    event_id: e.eventId,
    agency: e.agency,
    groups: e.groups,
    user_id: e.assignee,
    dossier_id: e.dossierId,
    task_id: e.taskId,
    kind: `deadline.${e.kind}`,
    message: deadlineMessage(e),
    created_at: now,
  }
}

/** Notifications (thông báo) for officers and supervisors, written by the deadline watch when an alarm fires. */
export function createNotificationService(deps: { db: Db; clock: Clock; repo: NotificationRepository }) {
  return {
    async list(
      p: Principal,
      opts: { beforeId?: number; limit: number; dossierId?: string },
    ): Promise<{ items: NotificationRow[]; nextCursor: string | null }> {
      if (!hasRole(p, 'officer', 'supervisor', 'admin')) throw new AppError('FORBIDDEN', 'Chỉ cán bộ có thông báo xử lý hồ sơ')
      const scope = hasRole(p, 'admin')
        ? { agency: null, member: null }
        : hasRole(p, 'supervisor')
          ? { agency: p.agency, member: null }
          : { agency: p.agency, member: { userId: p.userId, groups: p.groups } }
      const rows = await deps.repo.list(deps.db, scope, { ...opts, limit: opts.limit + 1 })
      const items = rows.slice(0, opts.limit)
      return { items, nextCursor: rows.length > opts.limit ? String(items[items.length - 1]!.id) : null }
    },
  }
}
export type NotificationService = ReturnType<typeof createNotificationService>
