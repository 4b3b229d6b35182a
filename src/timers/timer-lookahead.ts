import type { Logger } from 'pino'
import { atInstant, type Clock } from '../clock.ts'
import type { WorkingCalendar } from '../calendar/working-calendar.ts'
import type { Db } from '../db/knex.ts'
import { DeferredFlushError } from '../db/statement-batch.ts'
import { UnitOfWork } from '../db/unit-of-work.ts'
import type { TimerRepository, TimerRow } from '../records/timer.repository.ts'
import type { StepData } from '../steps/lock.ts'
import type { ObservedRead } from '../steps/observer.ts'
import type { StepRunner } from '../steps/step-runner.ts'

/** A timer firing computed ahead of its due time, waiting to be committed. */
interface PreparedFiring {
  timerId: string
  instanceId: string
  dossierId: string
  dueAt: Date
  /** Everything the step read (see `fingerprint`), as one string. */
  fingerprint: string
  /** The calendar the step counted with: an admin's holiday edit in between makes the firing stale. */
  calendar: WorkingCalendar
  /** The step's writes, rendered, with the state's version check. */
  writes: UnitOfWork
}

export type PreparedOutcome = 'fired' | 'skipped'

/**
 * What a step of this instance reads, as one comparable string: the instance's version, the dossier
 * row, the open tasks, and every row the observers declared they read (`reads`) — the observers get
 * no other rows, so nothing a step depends on is left out.
 */
function fingerprint(data: StepData, reads: readonly ObservedRead[]): string {
  const { instance } = data
  return JSON.stringify([instance.status, instance.step_id, instance.version, data.dossier, data.openTasks, ...reads.map((r) => data[r])])
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
  steps: StepRunner
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
        const read = await deps.steps.read(new UnitOfWork(tx), { instanceId: timer.instance_id, dossierId: timer.dossier_id })
        if (!read || read.instance.status !== 'running' || !read.pendingTimers.some((t) => t.id === timer.id)) throw ROLLBACK
        // What a live firing of this timer would read under its locks: its own timer is the one it fires.
        const data: StepData = { ...read, pendingTimers: read.pendingTimers.filter((t) => t.id !== timer.id) }
        const calendar = deps.calendar()
        const version = await deps.steps.version(tx, data.instance)
        const writes = new UnitOfWork(tx, { deferred: true })
        await atInstant(dueAt, () =>
          deps.steps.step(
            { uow: writes, version, data },
            { kind: 'fireTimer', executionId: timer.execution_id },
            {
              actor: 'system',
              now: dueAt,
              fallbackStatus: null,
              history: [
                {
                  dossier_id: data.dossier.id,
                  activity_id: timer.activity_id,
                  action: 'timer.fired',
                  actor: 'system',
                  details: { timerId: timer.id, dueAt: dueAt.toISOString() },
                  at: dueAt,
                },
              ],
            },
          ),
        )
        entry = {
          timerId: timer.id,
          instanceId: data.instance.id,
          dossierId: data.dossier.id,
          dueAt,
          fingerprint: fingerprint(data, deps.steps.observedReads),
          calendar,
          writes,
        }
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
        const uow = new UnitOfWork(tx)
        // The locks a live firing takes, for the whole chunk at once.
        const locked = await deps.steps.lock(uow, {
          timers: batch.map((p) => ({ id: p.timerId, instance_id: p.instanceId, dossier_id: p.dossierId })),
        })
        const timers = new Map(locked.timers.map((r) => [r.id, r]))
        const calendar = deps.calendar()
        for (const p of batch) {
          const timer = timers.get(p.timerId)
          const instance = locked.instances.find((i) => i.id === p.instanceId)
          if (!timer || timer.status !== 'pending' || !instance || instance.status !== 'running') {
            skipped.push(p)
            continue
          }
          const data = locked.dataFor(p.instanceId)
          if (!data || fingerprint(data, deps.steps.observedReads) !== p.fingerprint || calendar !== p.calendar) continue
          uow.write(deps.timers.markFired(tx, p.timerId, now))
          uow.append(p.writes)
          fired.push(p)
        }
        await uow.flush()
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
      await Promise.all(
        Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
          for (let c = chunks.shift(); c; c = chunks.shift()) await commit(c)
        }),
      )
    }
  }

  function kick(): Promise<void> {
    draining ??= drain().finally(() => {
      draining = null
    })
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
        const coming = await deps.timers.comingDue(db, now, new Date(now.getTime() + deps.windowMs), maxPrepared + unpreparable.size).rows()
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
        await Promise.all(
          Array.from({ length: Math.min(4, todo.length) }, async () => {
            for (let t = todo.shift(); t; t = todo.shift()) await prepare(t)
          }),
        )
        return instances.size
      })().finally(() => {
        preparing = null
      })
      return preparing
    },

    /** Runs `prepareComing` every `everyMs` until stopped. */
    start(everyMs = 1000): () => Promise<void> {
      let stopped = false
      const tick = () => {
        if (stopped) return
        this.prepareComing()
          .catch((err) => log.warn({ err }, 'timer look-ahead failed'))
          .finally(() => {
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
