import type { Logger } from 'pino'
import { atInstant, type Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db } from '../db/knex.ts'
import { DeferredFlushError, StatementBatch } from '../db/statement-batch.ts'
import type { AlarmRepository, AlarmRow } from '../deadlines/alarm.repository.ts'
import type { DossierRepository, DossierRow } from '../dossiers/dossier.repository.ts'
import type { InstanceRepository, InstanceRow } from '../instances/instance.repository.ts'
import type { InstanceService } from '../instances/instance.service.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { TaskRepository, TaskRow } from '../tasks/task.repository.ts'
import type { TimerRepository, TimerRow } from './timer.repository.ts'

/** A timer firing computed ahead of its due time, waiting to be committed. */
interface PreparedFiring {
  timerId: string
  instanceId: string
  dossierId: string
  dueAt: Date
  /** Everything the step read (instance version, dossier row, open tasks, pending timers, alarms), as one string. */
  fingerprint: string
  /** The calendar the step counted with: an admin's holiday edit in between makes the firing stale. */
  calendar: WorkingCalendar
  /** The step's writes, rendered, with the state's version check. */
  writes: StatementBatch
}

export type PreparedOutcome = 'fired' | 'skipped'

/** What a step of this instance reads, as one comparable string. */
function fingerprint(instance: Pick<InstanceRow, 'status' | 'step_id' | 'version'>, dossier: DossierRow | undefined, open: TaskRow[], timers: TimerRow[], alarms: AlarmRow[]): string {
  return JSON.stringify([instance.status, instance.step_id, instance.version, dossier ?? null, open, timers, alarms])
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rows) {
    const k = key(r)
    const list = out.get(k)
    if (list) list.push(r)
    else out.set(k, [r])
  }
  return out
}

const ROLLBACK = Symbol('prepared: roll back the read transaction')

/**
 * Timer look-ahead (chuẩn bị trước các mốc hẹn giờ): timers coming due within the next `windowMs` are
 * stepped ahead of time, off the critical path. The engine runs as of the timer's due instant (its
 * clock, history lines and new due dates say the due time) and the step's writes are rendered but not
 * sent. When the first job of the due time arrives, every prepared firing due by then is committed in
 * a few shared transactions: each one only if, under the same locks a live firing takes, its timer is
 * still pending and nothing the step read has changed (instance version, dossier row, open tasks,
 * pending timers, deadline alarms, calendar). Anything else falls back to the live firing, so the
 * look-ahead changes how fast a burst of timers fires, never what a firing does.
 *
 * Prepared firings live in this process's memory only: lost on a crash, the BullMQ jobs fire live.
 */
export function createTimerLookahead(deps: {
  db: Db
  clock: Clock
  log: Logger
  calendar: () => WorkingCalendar
  timers: TimerRepository
  instances: InstanceRepository
  dossiers: DossierRepository
  tasks: TaskRepository
  alarms: AlarmRepository
  versions: ProcedureVersionCache
  instanceService: InstanceService
  /** How far ahead timers are prepared. */
  windowMs: number
  /** At most this many prepared firings held in memory. */
  maxPrepared?: number
  /** Firings committed per transaction. */
  chunk?: number
  /** Transactions committing at once (their instances are disjoint: one prepared firing per instance). */
  parallel?: number
}) {
  const { db, clock, log } = deps
  const maxPrepared = deps.maxPrepared ?? 5000
  const chunk = deps.chunk ?? 100
  const parallel = deps.parallel ?? 3
  const prepared = new Map<string, PreparedFiring>()
  const preparedInstances = new Set<string>()
  /** Timers whose step cannot be prepared (it reads its own writes, or it fails): left to the live firing. */
  const unpreparable = new Map<string, Date>()
  /** Outcomes of committed firings, kept for their own job (it may arrive after another job's commit). */
  const outcomes = new Map<string, PreparedOutcome>()
  const counters = { prepared: 0, committed: 0, stale: 0, unpreparable: 0 }
  let draining: Promise<void> | null = null
  let preparing: Promise<number> | null = null

  function settle(p: PreparedFiring, outcome: PreparedOutcome | null) {
    prepared.delete(p.timerId)
    preparedInstances.delete(p.instanceId)
    if (outcome) {
      outcomes.set(p.timerId, outcome)
      if (outcomes.size > maxPrepared * 2) outcomes.delete(outcomes.keys().next().value!)
    }
  }

  async function prepare(timer: TimerRow): Promise<void> {
    const dueAt = new Date(timer.due_at)
    let entry: PreparedFiring | null = null
    try {
      await db.transaction(async (tx) => {
        const reads = new StatementBatch()
        const at = {
          instance: reads.read(deps.instances.withStateQuery(tx, timer.instance_id)),
          dossier: reads.read(deps.dossiers.findQuery(tx, timer.dossier_id)),
          open: reads.read(deps.tasks.openForInstancesQuery(tx, [timer.instance_id])),
          timers: reads.read(deps.timers.pendingForInstancesQuery(tx, [timer.instance_id])),
          alarms: reads.read(deps.alarms.liveForDossiersQuery(tx, [timer.dossier_id])),
        }
        const rows = await reads.flush(tx)
        const instance = rows[at.instance]![0] as InstanceRow | undefined
        const dossier = rows[at.dossier]![0] as DossierRow | undefined
        const pending = rows[at.timers] as TimerRow[]
        if (!instance || !dossier || instance.status !== 'running' || !pending.some((t) => t.id === timer.id)) throw ROLLBACK
        const open = rows[at.open] as TaskRow[]
        const alarms = rows[at.alarms] as AlarmRow[]
        const calendar = deps.calendar()
        const version = await deps.versions.get(tx, instance.procedure_version_id)
        const writes = new StatementBatch({ deferred: true })
        const { state, ...row } = instance
        await atInstant(dueAt, () => deps.instanceService.step(tx, {
          instance: row, version, dossier, known: { timers: pending.filter((t) => t.id !== timer.id), alarms },
        }, { kind: 'fireTimer', executionId: timer.execution_id }, {
          actor: 'system', now: dueAt, open, state, batch: writes, defer: true,
          history: [{ dossier_id: dossier.id, activity_id: timer.activity_id, action: 'timer.fired', actor: 'system', details: { timerId: timer.id, dueAt: dueAt.toISOString() }, at: dueAt }],
        }))
        entry = { timerId: timer.id, instanceId: instance.id, dossierId: dossier.id, dueAt, fingerprint: fingerprint(instance, dossier, open, pending, alarms), calendar, writes }
        throw ROLLBACK
      })
    } catch (err) {
      if (err !== ROLLBACK) {
        unpreparable.set(timer.id, dueAt)
        counters.unpreparable++
        if (!(err instanceof DeferredFlushError)) log.debug({ err, timer: timer.id }, 'timer firing not prepared; it will fire live')
        return
      }
    }
    if (!entry) return
    prepared.set(timer.id, entry)
    preparedInstances.add(timer.instance_id)
    counters.prepared++
  }

  /** Commits one chunk of prepared firings in one transaction; the stale ones are left to their live firing. */
  async function commit(batch: PreparedFiring[]): Promise<void> {
    const now = clock.now()
    const fired: PreparedFiring[] = []
    const skipped: PreparedFiring[] = []
    try {
      await db.transaction(async (tx) => {
        const instanceIds = [...new Set(batch.map((p) => p.instanceId))]
        const dossierIds = [...new Set(batch.map((p) => p.dossierId))]
        // The locks a live firing takes, in its order (instances, timers, dossiers), for the whole chunk at once.
        const reads = new StatementBatch()
        const at = {
          instances: reads.read(deps.instances.lockManyQuery(tx, instanceIds)),
          timers: reads.read(deps.timers.lockManyQuery(tx, batch.map((p) => p.timerId))),
          dossiers: reads.read(deps.dossiers.lockManyQuery(tx, dossierIds)),
          open: reads.read(deps.tasks.openForInstancesQuery(tx, instanceIds)),
          pending: reads.read(deps.timers.pendingForInstancesQuery(tx, instanceIds)),
          alarms: reads.read(deps.alarms.liveForDossiersQuery(tx, dossierIds)),
        }
        const rows = await reads.flush(tx)
        const instances = new Map((rows[at.instances] as InstanceRow[]).map((r) => [r.id, r]))
        const timers = new Map((rows[at.timers] as TimerRow[]).map((r) => [r.id, r]))
        const dossiers = new Map((rows[at.dossiers] as DossierRow[]).map((r) => [r.id, r]))
        const open = groupBy(rows[at.open] as TaskRow[], (r) => r.instance_id)
        const pending = groupBy(rows[at.pending] as TimerRow[], (r) => r.instance_id)
        const alarms = groupBy(rows[at.alarms] as AlarmRow[], (r) => r.dossier_id)
        const calendar = deps.calendar()
        const writes = new StatementBatch()
        for (const p of batch) {
          const timer = timers.get(p.timerId)
          const instance = instances.get(p.instanceId)
          if (!timer || timer.status !== 'pending' || !instance || instance.status !== 'running') { skipped.push(p); continue }
          const current = fingerprint(instance, dossiers.get(p.dossierId), open.get(p.instanceId) ?? [], pending.get(p.instanceId) ?? [], alarms.get(p.dossierId) ?? [])
          if (current !== p.fingerprint || calendar !== p.calendar) continue
          writes.add(deps.timers.markFired(tx, p.timerId, now))
          writes.append(p.writes)
          fired.push(p)
        }
        await writes.flush(tx)
      })
    } catch (err) {
      log.warn({ err, firings: batch.length }, 'prepared timer firings not committed; they fire live')
      fired.length = 0
      skipped.length = 0
    }
    for (const p of fired) settle(p, 'fired')
    for (const p of skipped) settle(p, 'skipped')
    for (const p of batch) if (prepared.get(p.timerId) === p) settle(p, null)
    counters.committed += fired.length
    counters.stale += batch.length - fired.length - skipped.length
  }

  /** Commits every prepared firing due by now, a chunk per transaction, until none is left. */
  async function drain(): Promise<void> {
    for (;;) {
      const now = clock.now().getTime()
      const due = [...prepared.values()].filter((p) => p.dueAt.getTime() <= now)
      if (!due.length) return
      due.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a.instanceId < b.instanceId ? -1 : 1))
      const chunks: PreparedFiring[][] = []
      for (let i = 0; i < due.length; i += chunk) chunks.push(due.slice(i, i + chunk))
      await Promise.all(Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
        for (let c = chunks.shift(); c; c = chunks.shift()) await commit(c)
      }))
    }
  }

  function kick(): Promise<void> {
    draining ??= drain().finally(() => { draining = null })
    return draining
  }

  return {
    /**
     * The outcome of a prepared firing of this timer, committing every prepared firing due by now;
     * null when there is none (not prepared, stale, not due): the caller fires live.
     */
    async fire(timerId: string): Promise<PreparedOutcome | null> {
      for (;;) {
        const outcome = outcomes.get(timerId)
        if (outcome) {
          outcomes.delete(timerId)
          return outcome
        }
        const p = prepared.get(timerId)
        if (!p || p.dueAt > clock.now()) return null
        await kick()
      }
    },

    /** Prepares the firings of timers coming due within the window (not those already due: they fire live). */
    prepareComing(): Promise<number> {
      preparing ??= (async () => {
        const now = clock.now()
        for (const [id, dueAt] of unpreparable) if (dueAt < now) unpreparable.delete(id)
        // Prepared firings whose jobs never came (e.g. this process runs no timer worker) are dropped.
        for (const p of prepared.values()) if (p.dueAt.getTime() < now.getTime() - 60_000) settle(p, null)
        const room = maxPrepared - prepared.size
        if (room <= 0) return 0
        const coming = await deps.timers.comingDue(db, now, new Date(now.getTime() + deps.windowMs), maxPrepared + unpreparable.size)
        // One prepared firing per instance: a second one would start from a state the first replaces.
        const todo: TimerRow[] = []
        const instances = new Set<string>()
        for (const t of coming) {
          if (todo.length >= room) break
          if (prepared.has(t.id) || unpreparable.has(t.id) || preparedInstances.has(t.instance_id) || instances.has(t.instance_id)) continue
          instances.add(t.instance_id)
          todo.push(t)
        }
        // A few at once: each waits on Postgres part of the time.
        await Promise.all(Array.from({ length: Math.min(4, todo.length) }, async () => {
          for (let t = todo.shift(); t; t = todo.shift()) await prepare(t)
        }))
        return instances.size
      })().finally(() => { preparing = null })
      return preparing
    },

    /** Runs `prepareComing` every `everyMs` until stopped. */
    start(everyMs = 1000): () => Promise<void> {
      let stopped = false
      const tick = () => {
        if (stopped) return
        this.prepareComing().catch((err) => log.warn({ err }, 'timer look-ahead failed')).finally(() => {
          if (!stopped) timer = setTimeout(tick, everyMs)
        })
      }
      let timer = setTimeout(tick, 0)
      return async () => {
        stopped = true
        clearTimeout(timer)
        await preparing?.catch(() => {})
        await draining
      }
    },

    /** Counts since start, and how many firings are held (for logs, health and the benchmark). */
    stats: () => ({ ...counters, held: prepared.size }),
  }
}
export type TimerLookahead = ReturnType<typeof createTimerLookahead>
