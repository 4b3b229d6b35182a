import type { Knex } from 'knex'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { AlarmRepository, AlarmRow } from '../records/alarm.repository.ts'
import type { DossierRepository, DossierRow } from '../records/dossier.repository.ts'
import type { InstanceRepository, InstanceRow } from '../records/instance.repository.ts'
import type { TaskRepository, TaskRow } from '../records/task.repository.ts'
import type { TimerRepository, TimerRow } from '../records/timer.repository.ts'

/** What one step of one process instance reads before it runs. */
export interface StepData {
  instance: InstanceRow
  dossier: DossierRow
  /** The instance's open tasks (without any the caller's own writes close). */
  openTasks: TaskRow[]
  /** The instance's pending timers (without any the caller fires in this step). */
  pendingTimers: TimerRow[]
  /** The dossier's live (pending or fired) deadline alarms. */
  liveAlarms: AlarmRow[]
  /** The saved engine state, when it was read with the locks (else the step reads it if the engine needs it). */
  state?: { saved: unknown }
  /** The open tasks of the dossier's other instances (a called procedure's, or its caller's): the deadline alarms watch them too. */
  otherOpenTasks?: TaskRow[]
}

/** Where a step's locks are found: through a task, through timers (their instances and dossiers), or through a dossier. */
export type StepTarget =
  | { task: string }
  | { timers: ReadonlyArray<Pick<TimerRow, 'id' | 'instance_id' | 'dossier_id'>> }
  | { dossier: string; task?: string | null; alarm?: string }

/** The rows locked and read for one or more steps. */
export interface LockedStep {
  /** Locked, in id order: every instance of the dossier(s) of the task, the timers or the dossier. */
  instances: InstanceRow[]
  task: TaskRow | null
  timers: TimerRow[]
  /** Locked, in id order. */
  dossiers: DossierRow[]
  alarm: AlarmRow | null
  /** The open tasks of every instance of the dossier(s). */
  openTasks: TaskRow[]
  pendingTimers: TimerRow[]
  liveAlarms: AlarmRow[]
  /** The step data of one locked instance, or null when it (or its dossier) is not there. */
  dataFor(instanceId: string): StepData | null
}

export interface StepRepositories {
  instances: InstanceRepository
  tasks: TaskRepository
  dossiers: DossierRepository
  timers: TimerRepository
  alarms: AlarmRepository
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rows) out.set(key(r), [...(out.get(key(r)) ?? []), r])
  return out
}

/**
 * Takes the locks of a step and reads what it needs, in the unit of work's next round trip (with the
 * transaction's BEGIN when it is the first). Every writer of a dossier's processing takes its locks
 * here, in this one order, so that two of them never wait for each other in a cycle:
 *
 *   1. process instances: every instance of the dossier(s) (a called procedure runs as an instance of
 *      its own, and a step of one may step its caller or cancel its callee), in id order;
 *   2. the task (a completion, or a task's deadline alarm);
 *   3. the timers being fired, in id order;
 *   4. the dossiers, in id order;
 *   5. the deadline alarm being fired.
 *
 * Then, unlocked (the locks above cover them): the open tasks of the dossiers' instances, the pending
 * timers of the task's or timers' instances (or the dossier's), the live deadline alarms of the
 * dossiers and, with `state`, the saved engine state of one instance.
 */
export async function lockForStep(
  uow: UnitOfWork,
  repos: StepRepositories,
  target: StepTarget,
  opts: { state?: boolean } = {},
): Promise<LockedStep> {
  const tx = uow.tx
  // Keys as lists, or as subqueries through the task or the dossier (a fresh builder for each use).
  const ofTask = (column: 'instance_id' | 'dossier_id') =>
    tx('tasks')
      .select(column)
      .where({ id: (target as { task: string }).task })
  const instanceKey = (): string[] | Knex.QueryBuilder =>
    'timers' in target
      ? [...new Set(target.timers.map((t) => t.instance_id))]
      : 'dossier' in target
        ? tx('process_instances').select('id').where({ dossier_id: target.dossier })
        : ofTask('instance_id')
  const dossierKey = (): string[] | Knex.QueryBuilder =>
    'timers' in target
      ? [...new Set(target.timers.map((t) => t.dossier_id))]
      : 'dossier' in target
        ? [target.dossier]
        : ofTask('dossier_id')
  const taskId = 'task' in target ? (target.task ?? null) : null
  const instances = uow.read(repos.instances.lock(tx, { dossierId: dossierKey() }))
  const task = taskId ? uow.read(repos.tasks.lock(tx, taskId)) : null
  const timers =
    'timers' in target
      ? uow.read(
          repos.timers.lock(
            tx,
            target.timers.map((t) => t.id),
          ),
        )
      : null
  const dossiers = uow.read(repos.dossiers.lock(tx, dossierKey()))
  const alarm = 'alarm' in target && target.alarm ? uow.read(repos.alarms.lock(tx, target.alarm)) : null
  // The open tasks of every instance of the dossier(s), read together (a dossier may run called procedures).
  const open = uow.read(repos.tasks.openForInstances(tx, { dossiers: dossierKey() }))
  const pending = uow.read(repos.timers.pendingForInstances(tx, instanceKey()))
  const alarms = uow.read(repos.alarms.liveForDossiers(tx, dossierKey()))
  const keys = instanceKey()
  const state = opts.state ? uow.read(repos.instances.state(tx, Array.isArray(keys) ? keys[0]! : keys)) : null
  await uow.flush()

  const firing = new Set(timers?.rows.map((t) => t.id) ?? [])
  const byInstance = {
    open: groupBy(open.rows, (t) => t.instance_id),
    pending: groupBy(
      pending.rows.filter((t) => !firing.has(t.id)),
      (t) => t.instance_id,
    ),
  }
  const alarmsByDossier = groupBy(alarms.rows, (a) => a.dossier_id)
  const saved = new Map((state?.rows ?? []).map((r) => [r.id, r.state ?? null]))
  return {
    instances: instances.rows,
    task: task?.one() ?? null,
    timers: timers?.rows ?? [],
    dossiers: dossiers.rows,
    alarm: alarm?.one() ?? null,
    openTasks: open.rows,
    pendingTimers: pending.rows,
    liveAlarms: alarms.rows,
    dataFor(instanceId) {
      const instance = instances.rows.find((i) => i.id === instanceId)
      const dossier = instance && dossiers.rows.find((d) => d.id === instance.dossier_id)
      if (!instance || !dossier) return null
      return {
        instance,
        dossier,
        openTasks: byInstance.open.get(instanceId) ?? [],
        pendingTimers: byInstance.pending.get(instanceId) ?? [],
        liveAlarms: alarmsByDossier.get(dossier.id) ?? [],
        ...(saved.has(instanceId) ? { state: { saved: saved.get(instanceId) } } : {}),
        otherOpenTasks: open.rows.filter((t) => t.dossier_id === dossier.id && t.instance_id !== instanceId),
      }
    },
  }
}

/**
 * What a step of one instance reads, without locks (a timer firing prepared ahead reads it in a
 * transaction it rolls back): the same rows `lockForStep` reads, the engine state with them.
 */
export async function readForStep(
  uow: UnitOfWork,
  repos: StepRepositories,
  at: { instanceId: string; dossierId: string },
): Promise<StepData | null> {
  const tx = uow.tx
  const instance = uow.read(repos.instances.withState(tx, at.instanceId))
  const dossier = uow.read(repos.dossiers.find(tx, at.dossierId))
  const open = uow.read(repos.tasks.openForInstances(tx, { dossiers: [at.dossierId], instances: [at.instanceId] }))
  const pending = uow.read(repos.timers.pendingForInstances(tx, [at.instanceId]))
  const alarms = uow.read(repos.alarms.liveForDossiers(tx, [at.dossierId]))
  await uow.flush()
  const row = instance.one()
  const d = dossier.one()
  if (!row || !d) return null
  const { state, ...rest } = row
  return {
    instance: rest,
    dossier: d,
    openTasks: open.rows,
    pendingTimers: pending.rows,
    liveAlarms: alarms.rows,
    state: { saved: state ?? null },
  }
}
