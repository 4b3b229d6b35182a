import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db } from '../db/knex.ts'
import { transaction, type UnitOfWork } from '../db/unit-of-work.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import { DossierStatus, FINAL_STATUSES } from '../records/statuses.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import type { NotificationRepository, NotificationRow } from '../notifications/notification.repository.ts'
import { deadlineNotification } from '../notifications/notification.service.ts'
import type { OutboxMessage } from '../outbox/outbox.repository.ts'
import type { TaskRepository, TaskRow } from '../records/task.repository.ts'
import { queueEveryPending, type TimerScheduler } from '../outbox/scheduled-jobs.ts'
import { lockForStep, type StepRepositories } from '../steps/lock.ts'
import type { AlarmKind, AlarmRepository, AlarmRow, DeadlineState } from '../records/alarm.repository.ts'

export const alarmJobId = (alarmId: string) => `alarm-${alarmId}`

/** Whether the legal clock of a dossier runs: accepted, not finished, not waiting for the applicant. */
export function isWatched(d: Pick<DossierRow, 'status' | 'paused_at'>): boolean {
  return !FINAL_STATUSES.has(d.status as DossierStatus) && d.status !== DossierStatus.RESULT_READY && !d.paused_at
}

const RANK: Record<DeadlineState, number> = { on_track: 0, due_soon: 1, overdue: 2 }
/** Leeway for clocks of several processes: a cancelled alarm this much beyond the horizon may still have a job. */
const CLOCK_MARGIN_MS = 5 * 60_000
const key = (taskId: string | null, kind: AlarmKind, deadline: Date | string) => `${taskId ?? ''}|${kind}|${new Date(deadline).getTime()}`

export type AlarmOutcome = 'fired' | 'not-due' | 'skipped'

type WatchedDossier = Pick<DossierRow, 'id' | 'code' | 'agency' | 'status' | 'paused_at' | 'appointment_at' | 'deadline_state'>
type WatchedTask = Pick<TaskRow, 'id' | 'due_at' | 'deadline_state' | 'activity_id' | 'name' | 'candidate_groups' | 'assignee'>
type NewAlarm = Omit<AlarmRow, 'status'> & { status: 'pending' | 'fired' }

/** What a fired alarm leaves: one history line, and the notification for the officers concerned (same transaction). */
function firedRecords(
  alarm: Pick<AlarmRow, 'id' | 'kind' | 'task_id' | 'deadline_at'>,
  dossier: Pick<DossierRow, 'id' | 'code' | 'agency'>,
  task: Pick<TaskRow, 'activity_id' | 'name' | 'candidate_groups' | 'assignee'> | null,
  now: Date,
): { history: HistoryEntry; notification: Omit<NotificationRow, 'id'> } {
  const deadlineAt = new Date(alarm.deadline_at).toISOString()
  return {
    history: {
      dossier_id: dossier.id,
      task_id: alarm.task_id,
      activity_id: task?.activity_id ?? null,
      action: `deadline.${alarm.kind}`,
      actor: 'system',
      details: { alarmId: alarm.id, deadlineAt, subject: alarm.task_id ? 'task' : 'dossier' },
      at: now,
    },
    notification: deadlineNotification(
      {
        eventId: alarmJobId(alarm.id),
        kind: alarm.kind,
        dossierId: dossier.id,
        code: dossier.code,
        agency: dossier.agency,
        taskId: alarm.task_id,
        taskName: task?.name ?? null,
        groups: task?.candidate_groups ?? [],
        assignee: task?.assignee ?? null,
        deadlineAt,
      },
      now,
    ),
  }
}

/**
 * Deadline watch (theo dõi hạn xử lý): every open dossier and every open task with a due date has two
 * alarms, due soon (sắp đến hạn, a configurable number of working minutes before) and overdue (quá
 * hạn, at the deadline itself). Alarms are rows in Postgres; the ones coming due within the queue
 * horizon also have a delayed BullMQ job (sent through the outbox when created that near, else added
 * by the per-minute `queueComing` pass), so that the many alarms of tasks done well before their due
 * date never touch Redis. When a deadline moves (pause, extension) the old alarms are cancelled and new
 * ones scheduled. A fired alarm writes history, sets the deadline state and writes the notification
 * for the officers concerned, in one transaction; one already due when created fires in the step
 * that created it.
 */
export function createDeadlineWatch(deps: {
  db: Db
  clock: Clock
  calendar: () => WorkingCalendar
  dueSoonWorkingMinutes: number
  /** Alarms get their BullMQ job only when they come due within this many ms (see `queueComing`). */
  queueHorizonMs: number
  /** The repositories a step's locks go through (the alarm firing takes them in the same order). */
  repos: StepRepositories
  alarms: AlarmRepository
  dossiers: DossierRepository
  tasks: TaskRepository
  history: HistoryRepository
  notifications: NotificationRepository
}) {
  const { db, clock } = deps

  return {
    /**
     * Makes the dossier's alarms match its current deadlines, in the caller's unit of work (the dossier
     * row is locked by the caller, who sends the writes). `dossier` and `tasks` carry the values as of
     * the end of the step; `existing`: the dossier's live alarms as read under the lock.
     */
    reconcile(uow: UnitOfWork, dossier: WatchedDossier, tasks: WatchedTask[], now: Date, existing: AlarmRow[]): OutboxMessage[] {
      const tx = uow.tx
      const cal = deps.calendar()
      const wanted = new Map<string, NewAlarm>()
      const want = (taskId: string | null, deadline: Date) => {
        const at = new Date(deadline)
        const soon = cal.subtractWorkingMinutes(at, deps.dueSoonWorkingMinutes)
        for (const [kind, fireAt] of [
          ['due_soon', soon],
          ['overdue', at],
        ] as const) {
          wanted.set(key(taskId, kind, at), {
            id: randomUUID(),
            dossier_id: dossier.id,
            task_id: taskId,
            kind,
            deadline_at: at,
            fire_at: fireAt,
            status: 'pending',
            created_at: now,
            fired_at: null,
          })
        }
      }
      const watched = isWatched(dossier)
      if (watched) {
        if (dossier.appointment_at) want(null, dossier.appointment_at)
        for (const t of tasks) if (t.due_at) want(t.id, t.due_at)
      }
      if (wanted.size === 0 && existing.every((a) => a.status !== 'pending')) return []
      const have = new Map(existing.map((a) => [key(a.task_id, a.kind, a.deadline_at), a]))
      const cancelled = existing.filter((a) => a.status === 'pending' && !wanted.has(key(a.task_id, a.kind, a.deadline_at)))
      const created = [...wanted].filter(([k]) => !have.has(k)).map(([, a]) => a)
      // An alarm already due when it is created (a task shorter than the due-soon window, a deadline
      // moved into the past) fires in this step: row, history and notification commit with it.
      const firedNow = created.filter((a) => a.fire_at.getTime() <= now.getTime())
      for (const a of firedNow) Object.assign(a, { status: 'fired', fired_at: now })
      uow.write(
        deps.alarms.cancel(
          tx,
          cancelled.map((a) => a.id),
        ),
      )
      uow.write(deps.alarms.insertMany(tx, created))
      const taskById = new Map(tasks.map((t) => [t.id, t]))
      const fired = firedNow.map((a) => firedRecords(a, dossier, a.task_id ? (taskById.get(a.task_id) ?? null) : null, now))
      uow.write(
        deps.history.append(
          tx,
          fired.map((f) => f.history),
        ),
      )
      uow.write(
        deps.notifications.insertManyOnce(
          tx,
          fired.map((f) => f.notification),
        ),
      )

      // A moved deadline starts on track again; one already passed is marked at once.
      if (watched) {
        const stateOf = (taskId: string | null, deadline: Date | null | undefined): DeadlineState => {
          if (!deadline) return 'on_track'
          const isFired = (kind: AlarmKind) =>
            (have.get(key(taskId, kind, deadline)) ?? wanted.get(key(taskId, kind, deadline)))?.status === 'fired'
          return isFired('overdue') ? 'overdue' : isFired('due_soon') ? 'due_soon' : 'on_track'
        }
        const ds = stateOf(null, dossier.appointment_at)
        if (ds !== (dossier.deadline_state ?? 'on_track')) uow.write(deps.dossiers.setDeadlineState(tx, dossier.id, ds))
        for (const t of tasks) {
          const ts = stateOf(t.id, t.due_at)
          if (ts !== (t.deadline_state ?? 'on_track')) uow.write(deps.tasks.setDeadlineState(tx, t.id, ts))
        }
      }
      // Redis holds only the jobs of alarms coming due within the horizon (the per-minute pass,
      // `queueComing`, adds the others as they come near); a cancelled alarm's job can only exist if
      // the alarm was that near.
      const horizon = now.getTime() + deps.queueHorizonMs
      return [
        ...created
          .filter((a) => a.status === 'pending' && a.fire_at.getTime() <= horizon)
          .map((a) => ({
            topic: 'deadline.scheduled',
            payload: { alarmId: a.id, jobId: alarmJobId(a.id), dueAt: a.fire_at.toISOString() },
          })),
        ...cancelled
          .filter((a) => new Date(a.fire_at).getTime() <= horizon + CLOCK_MARGIN_MS)
          .map((a) => ({ topic: 'deadline.cancelled', payload: { alarmId: a.id, jobId: alarmJobId(a.id) } })),
      ]
    },

    /** Fires one alarm, exactly once, never early; an alarm whose deadline has moved is dropped. */
    async fire(alarmId: string): Promise<AlarmOutcome> {
      const seen = await deps.alarms.find(db, alarmId).one()
      if (!seen || seen.status !== 'pending') return 'skipped'
      return transaction(db, async (uow) => {
        const tx = uow.tx
        const locked = await lockForStep(uow, deps.repos, { dossier: seen.dossier_id, task: seen.task_id, alarm: alarmId })
        const dossier = locked.dossiers[0]
        const alarm = locked.alarm
        if (!dossier || !alarm || alarm.status !== 'pending') return uow.finish('skipped' as const)
        const now = clock.now()
        if (new Date(alarm.fire_at) > now) return uow.finish('not-due' as const)
        const task = locked.task
        const deadline = alarm.task_id ? task?.due_at : dossier.appointment_at
        const current =
          isWatched(dossier) &&
          (!alarm.task_id || task?.status === 'open') &&
          deadline &&
          new Date(deadline).getTime() === new Date(alarm.deadline_at).getTime()
        if (!current) return uow.write(deps.alarms.cancel(tx, [alarm.id])).commit('skipped' as const)
        uow.write(deps.alarms.markFired(tx, alarm.id, now))
        const before = (alarm.task_id ? task!.deadline_state : dossier.deadline_state) as DeadlineState | undefined
        if (RANK[alarm.kind] > RANK[before ?? 'on_track']) {
          uow.write(
            alarm.task_id
              ? deps.tasks.setDeadlineState(tx, alarm.task_id, alarm.kind)
              : deps.dossiers.setDeadlineState(tx, dossier.id, alarm.kind),
          )
        }
        const { history, notification } = firedRecords(alarm, dossier, task ?? null, now)
        uow.write(deps.history.append(tx, [history]))
        uow.write(deps.notifications.insertManyOnce(tx, [notification]))
        return uow.commit('fired' as const)
      })
    },

    /** Fires every pending alarm due by now (a sweep; the worker fires them one by one). */
    async fireDue(limit = 1000): Promise<number> {
      let fired = 0
      for (const a of await deps.alarms.due(db, clock.now(), limit)) if ((await this.fire(a.id)) === 'fired') fired++
      return fired
    },

    /**
     * Queues a job for every pending alarm due within the horizon, those already past included (every
     * minute, so also after Redis lost its data); job ids are the alarms', so queued ones stay as they are.
     */
    queueComing: (scheduler: TimerScheduler): Promise<number> =>
      queueEveryPending({
        scheduler,
        now: () => clock.now(),
        page: (afterId) =>
          deps.alarms.pending(db, { limit: 1000, afterId, dueBy: new Date(clock.now().getTime() + deps.queueHorizonMs) }).rows(),
        job: (a) => ({ name: 'deadline.scheduled', data: { alarmId: a.id }, jobId: alarmJobId(a.id), dueAt: new Date(a.fire_at) }),
      }),
  }
}
export type DeadlineWatch = ReturnType<typeof createDeadlineWatch>
