import { AsyncLocalStorage } from 'node:async_hooks'
import client from 'prom-client'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { Queues } from '../outbox/queues.ts'
import { defineObserver } from '../steps/observer.ts'

/** What a request learns about itself while it runs: labels of its latency and fields of its log lines. */
export interface RequestFacts {
  procedure?: string
  dossierCode?: string
  taskId?: string
}

/** The facts of the request being handled (set by the onRequest hook of metrics.routes.ts). */
export const requestFacts = new AsyncLocalStorage<RequestFacts>()

/** A step observer that tells the request which procedure and dossier its step ran for (no reads, no writes). */
export const requestFactsObserver = defineObserver({
  name: 'request-facts',
  reads: [],
  apply: async (ctx) => {
    const facts = requestFacts.getStore()
    if (facts) {
      facts.procedure = ctx.version.procedure_code
      facts.dossierCode = ctx.dossier.code
    }
    return []
  },
})

interface Snapshot {
  openDossiers: Array<{ status: string; deadline_state: string; n: number }>
  finished: Array<{ outcome: string; n: number }>
  timersPending: number
  timerLagSeconds: number
  alarmsPending: number
  alarmLagSeconds: number
}

/**
 * Prometheus metrics (prom-client, a registry of our own): request latency by route and procedure,
 * BullMQ queue depths and failed jobs, unfinished dossiers by status and deadline state, finished ones
 * by outcome, timers and deadline alarms pending and how late the oldest due one is. The database
 * figures come from one snapshot of cheap indexed queries, cached `cacheMs`.
 */
export function createMetrics(deps: { db: Db; clock: Clock; queues?: Queues; cacheMs?: number; processMetrics?: boolean }) {
  const registry = new client.Registry()
  // CPU, memory, event-loop lag, GC: once per process (main.ts), not for every app a test builds.
  if (deps.processMetrics) client.collectDefaultMetrics({ register: registry, prefix: 'dvc_' })
  const latency = new client.Histogram({
    name: 'dvc_http_request_duration_seconds',
    help: 'HTTP request latency by method, route, status class and procedure (the procedure of the step it ran, if any)',
    labelNames: ['method', 'route', 'status', 'procedure'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })

  const cacheMs = deps.cacheMs ?? 15_000
  let cached: { at: number; value: Promise<Snapshot> } | null = null
  const snapshot = () => {
    const now = Date.now()
    if (!cached || now - cached.at > cacheMs) {
      cached = { at: now, value: readSnapshot() }
      cached.value.catch(() => (cached = null))
    }
    return cached.value
  }
  const readSnapshot = async (): Promise<Snapshot> => {
    const db = deps.db
    const at = deps.clock.now()
    const [open, finished, timers, alarms] = await Promise.all([
      db('dossiers')
        .whereNull('finished_at')
        .groupBy('status', 'deadline_state')
        .select('status', 'deadline_state', db.raw('count(*)::int as n')),
      db('supervision_daily').first(
        db.raw('coalesce(sum(resolved_early), 0)::int as early'),
        db.raw('coalesce(sum(resolved_on_time), 0)::int as on_time'),
        db.raw('coalesce(sum(resolved_late), 0)::int as late'),
        db.raw('coalesce(sum(resolved - resolved_early - resolved_on_time - resolved_late), 0)::int as none'),
      ),
      db('timers')
        .where({ status: 'pending' })
        .first(db.raw('count(*)::int as n'), db.raw('min(due_at) filter (where due_at <= ?) as oldest', [at])),
      db('deadline_alarms')
        .where({ status: 'pending' })
        .first(db.raw('count(*)::int as n'), db.raw('min(fire_at) filter (where fire_at <= ?) as oldest', [at])),
    ])
    const lag = (oldest: Date | null) => (oldest ? Math.max(0, (at.getTime() - new Date(oldest).getTime()) / 1000) : 0)
    return {
      openDossiers: open as Snapshot['openDossiers'],
      finished: Object.entries(finished ?? {}).map(([outcome, n]) => ({ outcome, n: Number(n) })),
      timersPending: timers?.n ?? 0,
      timerLagSeconds: lag(timers?.oldest ?? null),
      alarmsPending: alarms?.n ?? 0,
      alarmLagSeconds: lag(alarms?.oldest ?? null),
    }
  }

  new client.Gauge({
    name: 'dvc_open_dossiers',
    help: 'Unfinished dossiers by status and deadline state (on_track, due_soon, overdue)',
    labelNames: ['status', 'deadline_state'],
    registers: [registry],
    async collect() {
      this.reset()
      for (const r of (await snapshot()).openDossiers) this.set({ status: r.status, deadline_state: r.deadline_state }, r.n)
    },
  })
  new client.Gauge({
    name: 'dvc_finished_dossiers',
    help: 'Dossiers whose processing finished, by outcome against the appointment date (early, on_time, late; none: no appointment)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      this.reset()
      for (const r of (await snapshot()).finished) this.set({ outcome: r.outcome }, r.n)
    },
  })
  const single = (name: string, help: string, pick: (s: Snapshot) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await snapshot()))
      },
    })
  single('dvc_timers_pending', 'BPMN timers waiting to fire', (s) => s.timersPending)
  single('dvc_timer_lag_seconds', 'How long the oldest due, still pending BPMN timer has been waiting (0: none)', (s) => s.timerLagSeconds)
  single('dvc_deadline_alarms_pending', 'Deadline alarms (due soon, overdue) waiting to fire', (s) => s.alarmsPending)
  single(
    'dvc_deadline_alarm_lag_seconds',
    'How long the oldest due, still pending deadline alarm has been waiting (0: none)',
    (s) => s.alarmLagSeconds,
  )

  if (deps.queues) {
    const queues = deps.queues
    new client.Gauge({
      name: 'dvc_queue_jobs',
      help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed: jobs that used up their attempts)',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset()
        for (const q of queues.all()) {
          // Redis away: the queue's figures are left out rather than failing the whole scrape.
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => null)
          for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: q.name, state }, n)
        }
      },
    })
  }

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeRequest(o: { method: string; route: string; statusCode: number; procedure?: string; seconds: number }) {
      latency.observe(
        { method: o.method, route: o.route, status: `${Math.floor(o.statusCode / 100)}xx`, procedure: o.procedure ?? '' },
        o.seconds,
      )
    },
  }
}
export type Metrics = ReturnType<typeof createMetrics>
