import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/** The states of a handoff (chuyển liên thông). */
export const HandoffState = {
  /** To send (our adapter) or to fetch (an external worker), now or at `next_attempt_at`. */
  PENDING: 'pending',
  /** Sent; the other system answers later by a signed callback. */
  WAITING: 'waiting',
  COMPLETED: 'completed',
  /** Retries ran out: an incident is open. */
  INCIDENT: 'incident',
  /** The waiting activity was interrupted (boundary event, withdrawal, stop). */
  CANCELLED: 'cancelled',
} as const
export type HandoffState = (typeof HandoffState)[keyof typeof HandoffState]

/** States in which an answer is still expected. */
export const ANSWERABLE: readonly string[] = [HandoffState.PENDING, HandoffState.WAITING]

export interface HandoffRow {
  id: string
  dossier_id: string
  instance_id: string
  procedure_code: string
  agency: string
  receiving_agency: string | null
  business_key: string
  activity_id: string
  execution_id: string
  topic: string
  adapter: string | null
  state: HandoffState
  priority: number
  variables: Record<string, unknown>
  attempts: number
  retries: number | null
  retry_cycle: string
  next_attempt_at: Date | null
  worker_id: string | null
  lock_expires_at: Date | null
  due_at: Date | null
  error_message: string | null
  error_details: string | null
  answer: Record<string, unknown> | null
  created_at: Date
  updated_at: Date
  sent_at: Date | null
  answered_at: Date | null
  /** The postal operator's tracking number (mã vận đơn) of a `postal` handoff's order. */
  tracking_number?: string | null
}

export type NewHandoff = Pick<
  HandoffRow,
  | 'id'
  | 'dossier_id'
  | 'instance_id'
  | 'procedure_code'
  | 'agency'
  | 'receiving_agency'
  | 'business_key'
  | 'activity_id'
  | 'execution_id'
  | 'topic'
  | 'adapter'
  | 'priority'
  | 'variables'
  | 'retry_cycle'
  | 'due_at'
  | 'created_at'
>

/** The outbox topic that puts an adapter handoff's job on the handoffs queue. */
export const DISPATCH_TOPIC = 'handoff.dispatch'
/** The BullMQ job of one attempt: a re-queue of the same attempt never duplicates it. */
export const dispatchJobId = (handoffId: string, attempt: number) => `handoff-${handoffId}-${attempt}`
/** Postgres channel woken when an external task becomes fetchable (long polling). */
export const FETCHABLE_CHANNEL = 'handoffs'

const COLUMNS = [
  'id',
  'dossier_id',
  'instance_id',
  'procedure_code',
  'agency',
  'receiving_agency',
  'business_key',
  'activity_id',
  'execution_id',
  'topic',
  'adapter',
  'priority',
  'variables',
  'retry_cycle',
  'due_at',
  'created_at',
] as const

const pick = (r: NewHandoff) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]]))

export interface HandoffFilter {
  topics?: string[]
  externalOnly?: boolean
  workerId?: string
  /** Handoffs that name this receiving agency or none (what a worker of the agency may see). */
  receivingAgencyOrNone?: string
  agency?: string
  receivingAgency?: string
  dossierId?: string
  state?: string
  /** Only those whose lock has lapsed or was never taken (`locked: false`), or is held (`true`). */
  locked?: boolean
  now: Date
  limit: number
  after?: { at: string; id: string }
}

export function createHandoffRepository() {
  return {
    find: (q: Queryable, id: string) => read<HandoffRow>(q('handoffs').where({ id }).select('*')),
    /** After the step's own locks (steps/lock.ts): the handoff row last. */
    lock: (q: Queryable, id: string) => read<HandoffRow>(q('handoffs').where({ id }).forNoKeyUpdate().select('*')),
    forDossier: (q: Queryable, dossierId: string) =>
      read<HandoffRow>(q('handoffs').where({ dossier_id: dossierId }).orderBy(['created_at', 'id']).select('*')),

    /**
     * The handoffs a step leaves waiting, written once (a handoff still waiting from an earlier step is
     * left alone), each with its history line and, for adapter handoffs, the outbox entry that becomes
     * its first job; a new external task wakes long-polling fetches. One statement.
     */
    createForStep(q: Queryable, rows: NewHandoff[]) {
      if (!rows.length) return null
      const insert = q('handoffs')
        .insert(rows.map((r) => ({ ...pick(r), variables: JSON.stringify(r.variables), updated_at: r.created_at })))
        .onConflict(['instance_id', 'execution_id'])
        .ignore()
        .returning(['id', 'dossier_id', 'activity_id', 'topic', 'adapter', 'receiving_agency', 'created_at'])
        .toSQL()
      return write(
        q.raw(
          `WITH ins AS (${insert.sql}),
           hist AS (
             INSERT INTO history (dossier_id, activity_id, action, actor, details, at)
             SELECT dossier_id, activity_id, 'handoff.created', 'system',
                    jsonb_build_object('handoffId', id, 'topic', topic, 'receivingAgency', receiving_agency, 'adapter', adapter), created_at
             FROM ins),
           out AS (
             INSERT INTO outbox (topic, payload, available_at)
             SELECT '${DISPATCH_TOPIC}', jsonb_build_object('handoffId', id, 'jobId', 'handoff-' || id || '-1'), created_at
             FROM ins WHERE adapter IS NOT NULL)
           SELECT pg_notify('outbox', ''), pg_notify('${FETCHABLE_CHANNEL}', '') FROM (SELECT 1) one WHERE EXISTS (SELECT 1 FROM ins)`,
          insert.bindings,
        ),
      )
    },

    /**
     * Cancels the instance's live handoffs whose activity no longer waits (interrupted by a boundary
     * event, the process ended or was stopped), with a history line each; their open incidents close.
     */
    cancelOthers(q: Queryable, instanceId: string, stillWaiting: string[], now: Date) {
      return write(
        q.raw(
          `WITH c AS (
             UPDATE handoffs SET state = 'cancelled', updated_at = :now, worker_id = NULL, lock_expires_at = NULL
             WHERE instance_id = :instanceId AND state IN ('pending', 'waiting', 'incident')
               AND execution_id NOT IN (SELECT jsonb_array_elements_text(CAST(:keep AS jsonb)))
             RETURNING id, dossier_id, activity_id, topic),
           i AS (
             UPDATE incidents SET state = 'resolved', resolved_at = :now, resolved_by = 'system', note = 'handoff cancelled'
             WHERE state = 'open' AND handoff_id IN (SELECT id FROM c))
           INSERT INTO history (dossier_id, activity_id, action, actor, details, at)
           SELECT dossier_id, activity_id, 'handoff.cancelled', 'system', jsonb_build_object('handoffId', id, 'topic', topic), :now FROM c`,
          { now, instanceId, keep: JSON.stringify(stillWaiting) },
        ),
      )
    },

    /**
     * Starts an adapter attempt in one statement: counts it and notes when the handoff was first sent,
     * if it is still pending and due; the row as it is now, or none (then nothing was changed).
     */
    startAttempt: (q: Queryable, id: string, now: Date) =>
      read<HandoffRow>(
        q('handoffs')
          .where({ id, state: HandoffState.PENDING })
          .whereNotNull('adapter')
          .where((w) => void w.whereNull('next_attempt_at').orWhere('next_attempt_at', '<=', now))
          .update({ attempts: q.raw('attempts + 1'), sent_at: q.raw('COALESCE(sent_at, ?)', [now]), updated_at: now })
          .returning('*'),
      ),

    update: (q: Queryable, id: string, fields: Partial<Omit<HandoffRow, 'id'>> & { updated_at: Date }) =>
      write(
        q('handoffs')
          .where({ id })
          .update({
            ...fields,
            ...(fields.answer !== undefined ? { answer: fields.answer === null ? null : JSON.stringify(fields.answer) } : {}),
          }),
      ),

    /**
     * Locks up to `limit` fetchable external tasks of one topic for a worker: pending, with retries
     * left, due, and not locked by a live worker. SKIP LOCKED: two fetches never take the same task.
     */
    fetchAndLock: (
      q: Queryable,
      a: { topic: string; workerId: string; until: Date; now: Date; limit: number; usePriority: boolean; agency: string },
    ) =>
      read<HandoffRow>(
        q.raw(
          `UPDATE handoffs SET worker_id = :workerId, lock_expires_at = :until, updated_at = :now, attempts = attempts + 1,
                  sent_at = COALESCE(sent_at, :now)
           WHERE id IN (
             SELECT id FROM handoffs
             WHERE state = 'pending' AND adapter IS NULL AND topic = :topic
               AND (receiving_agency IS NULL OR receiving_agency = :agency)
               AND (retries IS NULL OR retries > 0)
               AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
               AND (lock_expires_at IS NULL OR lock_expires_at <= :now)
             ORDER BY ${a.usePriority ? 'priority DESC,' : ''} created_at, id
             LIMIT :limit
             FOR UPDATE SKIP LOCKED)
           RETURNING *`,
          { workerId: a.workerId, until: a.until, now: a.now, topic: a.topic, limit: a.limit, agency: a.agency },
        ),
      ),

    /** Adapter handoffs whose next attempt is due (and, with `untouchedSince`, left alone since then). */
    dueForAdapters: (q: Queryable, now: Date, limit: number, untouchedSince?: Date) =>
      read<Pick<HandoffRow, 'id'>>(
        q('handoffs')
          .where('updated_at', '<=', untouchedSince ?? now)
          .where({ state: HandoffState.PENDING })
          .whereNotNull('adapter')
          .where((w) => {
            void w.whereNull('next_attempt_at').orWhere('next_attempt_at', '<=', now)
          })
          .orderBy('created_at')
          .limit(limit)
          .select('id'),
      ),

    /** Releases an external task's lock (it can be fetched again at once) and wakes long-polling fetches. */
    unlock: (q: Queryable, id: string, now: Date) =>
      write(
        q.raw(
          `WITH u AS (UPDATE handoffs SET worker_id = NULL, lock_expires_at = NULL, updated_at = :now WHERE id = :id RETURNING id)
           SELECT pg_notify('${FETCHABLE_CHANNEL}', '') FROM u`,
          { id, now },
        ),
      ),

    /** Handoffs still waiting for an answer that have a due date. */
    awaitingWithDue: (q: Queryable, limit: number) =>
      read<HandoffRow>(
        q('handoffs')
          .whereIn('state', [HandoffState.PENDING, HandoffState.WAITING, HandoffState.INCIDENT])
          .whereNotNull('due_at')
          .orderBy('due_at')
          .limit(limit)
          .select('*'),
      ),

    /**
     * Raises a handoff's due-soon or overdue alarm once: a notification for the sending agency's
     * officers (its event id makes it once) and, only when it is new, a history line naming the late agency.
     */
    raiseAlarm: (q: Queryable, h: HandoffRow, kind: 'due_soon' | 'overdue', message: string, now: Date) =>
      write(
        q.raw(
          `WITH n AS (
             INSERT INTO notifications (event_id, agency, groups, dossier_id, kind, message, created_at)
             VALUES (:eventId, :agency, '{}', :dossierId, :kind, :message, :now)
             ON CONFLICT (event_id) DO NOTHING RETURNING id)
           INSERT INTO history (dossier_id, activity_id, action, actor, details, at)
           SELECT :dossierId, :activityId, :action, 'system',
                  jsonb_build_object('handoffId', CAST(:handoffId AS text), 'receivingAgency', CAST(:receivingAgency AS text), 'dueAt', CAST(:dueAt AS text)), :now
           FROM n`,
          {
            eventId: `handoff-${kind}-${h.id}`,
            agency: h.agency,
            dossierId: h.dossier_id,
            kind: `handoff_${kind}`,
            message,
            now,
            activityId: h.activity_id,
            action: kind === 'overdue' ? 'handoff.overdue' : 'handoff.due_soon',
            handoffId: h.id,
            receivingAgency: h.receiving_agency,
            dueAt: h.due_at ? new Date(h.due_at).toISOString() : null,
          },
        ),
      ),

    /**
     * What supervisors watch, by receiving agency, for the handoffs a sending agency (or every one)
     * is waiting on: how many wait, are overdue, are stuck (no answer since `stuckBefore`) or in an incident.
     */
    byReceivingAgency: (q: Queryable, a: { agency: string | null; now: Date; stuckBefore: Date }) =>
      read<{ receiving_agency: string | null; waiting: number; overdue: number; stuck: number; incidents: number }>(
        q.raw(
          `SELECT receiving_agency,
                  count(*) FILTER (WHERE state IN ('pending', 'waiting'))::int AS waiting,
                  count(*) FILTER (WHERE state IN ('pending', 'waiting', 'incident') AND due_at <= :now)::int AS overdue,
                  count(*) FILTER (WHERE state IN ('pending', 'waiting') AND created_at <= :stuckBefore)::int AS stuck,
                  count(*) FILTER (WHERE state = 'incident')::int AS incidents
           FROM handoffs
           WHERE state IN ('pending', 'waiting', 'incident') AND (CAST(:agency AS text) IS NULL OR agency = :agency)
           GROUP BY receiving_agency ORDER BY receiving_agency NULLS LAST`,
          { agency: a.agency, now: a.now, stuckBefore: a.stuckBefore },
        ),
      ),

    /** The handoffs behind those counts that need a look: overdue, stuck or in an incident, oldest first. */
    needingAttention: (q: Queryable, a: { agency: string | null; now: Date; stuckBefore: Date; limit: number }) =>
      read<HandoffRow>(
        q.raw(
          `SELECT * FROM handoffs
           WHERE state IN ('pending', 'waiting', 'incident') AND (CAST(:agency AS text) IS NULL OR agency = :agency)
             AND (state = 'incident' OR due_at <= :now OR created_at <= :stuckBefore)
           ORDER BY created_at, id LIMIT :limit`,
          { agency: a.agency, now: a.now, stuckBefore: a.stuckBefore, limit: a.limit },
        ),
      ),

    list(q: Queryable, f: HandoffFilter) {
      const query = q('handoffs').orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      if (f.topics) void query.whereIn('topic', f.topics)
      if (f.externalOnly) void query.whereNull('adapter')
      if (f.workerId) void query.where('worker_id', f.workerId)
      if (f.receivingAgencyOrNone)
        void query.where((w) => {
          void w.whereNull('receiving_agency').orWhere('receiving_agency', f.receivingAgencyOrNone!)
        })
      if (f.agency) void query.where('agency', f.agency)
      if (f.receivingAgency) void query.where('receiving_agency', f.receivingAgency)
      if (f.dossierId) void query.where('dossier_id', f.dossierId)
      if (f.state) void query.where('state', f.state)
      if (f.locked === true) void query.where('lock_expires_at', '>', f.now)
      if (f.locked === false)
        void query.where((w) => {
          void w.whereNull('lock_expires_at').orWhere('lock_expires_at', '<=', f.now)
        })
      if (f.after) void query.whereRaw('(created_at, id) > (?, ?)', [f.after.at, f.after.id])
      return read<HandoffRow>(query.limit(f.limit).select('*'))
    },
  }
}
export type HandoffRepository = ReturnType<typeof createHandoffRepository>
