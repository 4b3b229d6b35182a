import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction, type UnitOfWork } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import type { HistoryEntry, HistoryRepository } from '../records/history.repository.ts'
import type { StepRunner } from '../steps/step-runner.ts'
import type { AdapterAnswer, AdapterRegistry } from './adapters/adapter.ts'
import { ANSWERABLE, DISPATCH_TOPIC, dispatchJobId, HandoffState, type HandoffRepository, type HandoffRow } from './handoff.repository.ts'
import type { IncidentRepository } from './incident.repository.ts'
import { nextRetry } from './retry.ts'

/** The other system's answer that resumes the instance. */
export type HandoffAnswer =
  | { kind: 'complete'; variables: Record<string, unknown> }
  | { kind: 'bpmnError'; errorCode: string; errorMessage: string | null; variables: Record<string, unknown> }

/** A failed attempt. An external worker sets the retries left and the wait itself (Camunda 7's failure); our adapters follow the retry cycle. */
export interface HandoffFailure {
  message: string
  details?: string | null
  retries?: number
  retryTimeoutMs?: number
}

/**
 * What the caller of an answer or a failure records with it, in its transaction (the postal tracking
 * event that carries it): `before` runs once the handoff is locked and answerable, its lines go to the
 * history before the answer's; `after` runs after the step's writes.
 */
export interface AnswerHooks {
  before?: (uow: UnitOfWork, h: HandoffRow, now: Date) => HistoryEntry[]
  after?: (uow: UnitOfWork, h: HandoffRow, now: Date) => void
}

/** Who answers: a person or system (for the history), and for an external worker the lock it must hold. */
export interface Answerer {
  actor: string
  workerId?: string
}

export interface HandoffDeps {
  db: Db
  clock: Clock
  log: Logger
  handoffs: HandoffRepository
  incidents: IncidentRepository
  history: HistoryRepository
  outbox: OutboxRepository
  steps: StepRunner
  adapters: AdapterRegistry
  /** Test fault points: `afterAdapterCall` runs between the adapter's answer and its commit (a worker killed there). */
  faults?: { afterAdapterCall?: (h: HandoffRow, answer: AdapterAnswer) => void | Promise<void> }
}

const notFound = (id: string) => new AppError('HANDOFF_NOT_FOUND', `Không tìm thấy yêu cầu liên thông ${id}`)
const answered = (h: HandoffRow) =>
  new AppError('HANDOFF_ALREADY_ANSWERED', `Yêu cầu liên thông đã ở trạng thái "${h.state}": câu trả lời này không được ghi nhận`, {
    state: h.state,
  })

/** The outbox entry of one adapter attempt's job, due at `at`. */
export function dispatchMessage(h: Pick<HandoffRow, 'id' | 'attempts'>, at: Date) {
  return {
    topic: DISPATCH_TOPIC,
    payload: { handoffId: h.id, jobId: dispatchJobId(h.id, h.attempts + 1), dueAt: at.toISOString() },
    availableAt: at,
  }
}

/**
 * Handoffs as durable jobs: an answer resumes the instance exactly once (the handoff row locked and
 * its state checked in the step's transaction), a failure is retried on the retry cycle and opens
 * one incident when no retry is left.
 */
export function createHandoffService(deps: HandoffDeps) {
  const { db, clock } = deps

  /** Checks the external worker's lock (Camunda 7: only the worker holding an unexpired lock may answer). */
  function assertLock(h: HandoffRow, by: Answerer, now: Date): void {
    if (by.workerId === undefined) return
    if (h.worker_id !== by.workerId || !h.lock_expires_at || new Date(h.lock_expires_at) <= now)
      throw new AppError('EXTERNAL_TASK_LOCK_NOT_HELD', `Worker ${by.workerId} không giữ khóa còn hiệu lực của công việc ${h.id}`, {
        workerId: h.worker_id,
        lockExpirationTime: h.lock_expires_at,
      })
  }

  async function lockRow(uow: UnitOfWork, id: string): Promise<HandoffRow> {
    const h = uow.read(deps.handoffs.lock(uow.tx, id))
    await uow.flush()
    const row = h.one()
    if (!row) throw notFound(id)
    return row
  }

  const service = {
    find: async (id: string) => (await deps.handoffs.find(db, id).one()) ?? null,

    /**
     * Resumes the waiting instance with the answer, once: the step's locks, then the handoff's (in the
     * one lock order), its state checked, the engine step, the handoff row and history, one commit.
     * A second answer finds the handoff answered: HANDOFF_ALREADY_ANSWERED, nothing written.
     */
    async answer(id: string, answer: HandoffAnswer, by: Answerer, hooks: AnswerHooks = {}): Promise<{ dossierId: string; status: string }> {
      const seen = await deps.handoffs.find(db, id).one()
      if (!seen) throw notFound(id)
      return transaction(db, async (uow) => {
        const locked = await deps.steps.lock(uow, { dossier: seen.dossier_id }, { state: true })
        const h = await lockRow(uow, id)
        const now = clock.now()
        if (!ANSWERABLE.includes(h.state)) throw answered(h)
        assertLock(h, by, now)
        const data = locked.dataFor(h.instance_id)
        if (!data || data.instance.status !== 'running') throw answered({ ...h, state: HandoffState.CANCELLED })
        const version = await deps.steps.version(uow.tx, data.instance)
        const before = hooks.before?.(uow, h, now) ?? []
        uow.write(
          deps.handoffs.update(uow.tx, id, {
            state: HandoffState.COMPLETED,
            answer: answer as unknown as Record<string, unknown>,
            answered_at: now,
            worker_id: null,
            lock_expires_at: null,
            updated_at: now,
          }),
        )
        uow.write(deps.incidents.resolveForHandoff(uow.tx, id, by.actor, now))
        const line: HistoryEntry = {
          dossier_id: h.dossier_id,
          activity_id: h.activity_id,
          action: answer.kind === 'complete' ? 'handoff.completed' : 'handoff.bpmn-error',
          actor: by.actor,
          details: {
            handoffId: id,
            topic: h.topic,
            receivingAgency: h.receiving_agency,
            attempts: h.attempts,
            ...(answer.kind === 'bpmnError' ? { errorCode: answer.errorCode, errorMessage: answer.errorMessage } : {}),
            // What the other agency answered (e.g. the tax notice: obligationAmount, taxNoticeNumber).
            variables: answer.variables,
          },
          at: now,
        }
        const outcome = await deps.steps.step(
          { uow, version, data },
          answer.kind === 'complete'
            ? { kind: 'signal', activityId: h.activity_id, executionId: h.execution_id, variables: answer.variables }
            : {
                kind: 'bpmnError',
                activityId: h.activity_id,
                executionId: h.execution_id,
                errorCode: answer.errorCode,
                errorMessage: answer.errorMessage,
                variables: answer.variables,
              },
          { actor: by.actor, now, fallbackStatus: null, history: [...before, line] },
        )
        hooks.after?.(uow, h, now)
        return uow.commit({ dossierId: h.dossier_id, status: outcome.status })
      })
    },

    /**
     * Records a failed attempt: retried later (a job at the retry time for our adapters; fetchable
     * again then for external workers), or, with no retry left, an incident opened.
     */
    async fail(
      id: string,
      failure: HandoffFailure,
      by: Answerer,
      hooks: Pick<AnswerHooks, 'before'> = {},
    ): Promise<{ retries: number; retryAt: Date | null; incident: boolean }> {
      const seen = await deps.handoffs.find(db, id).one()
      if (!seen) throw notFound(id)
      return transaction(db, async (uow) => {
        // The one lock order, as markSent and an answer take it: the step's locks, then the handoff's.
        await deps.steps.lock(uow, { dossier: seen.dossier_id })
        const h = await lockRow(uow, id)
        const now = clock.now()
        if (!ANSWERABLE.includes(h.state)) throw answered(h)
        assertLock(h, by, now)
        const next =
          failure.retries !== undefined
            ? { retries: failure.retries, retryAt: failure.retries > 0 ? new Date(now.getTime() + (failure.retryTimeoutMs ?? 0)) : null }
            : nextRetry(h.retry_cycle, h.retries, now)
        const incident = next.retries <= 0
        uow.write(
          deps.handoffs.update(uow.tx, id, {
            state: incident ? HandoffState.INCIDENT : HandoffState.PENDING,
            retries: Math.max(0, next.retries),
            next_attempt_at: next.retryAt,
            error_message: failure.message.slice(0, 2000),
            error_details: failure.details?.slice(0, 20_000) ?? null,
            worker_id: null,
            lock_expires_at: null,
            updated_at: now,
          }),
        )
        const history: HistoryEntry[] = [
          ...(hooks.before?.(uow, h, now) ?? []),
          {
            dossier_id: h.dossier_id,
            activity_id: h.activity_id,
            action: 'handoff.failed',
            actor: by.actor,
            details: { handoffId: id, message: failure.message, attempts: h.attempts, retries: next.retries, retryAt: next.retryAt },
            at: now,
          },
        ]
        if (incident) {
          const incidentId = randomUUID()
          uow.write(
            deps.incidents.open(uow.tx, {
              id: incidentId,
              type: h.adapter ? 'failedJob' : 'failedExternalTask',
              handoff_id: id,
              dossier_id: h.dossier_id,
              instance_id: h.instance_id,
              procedure_code: h.procedure_code,
              agency: h.agency,
              receiving_agency: h.receiving_agency,
              activity_id: h.activity_id,
              message: failure.message.slice(0, 2000),
              created_at: now,
            }),
          )
          history.push({
            dossier_id: h.dossier_id,
            activity_id: h.activity_id,
            action: 'incident.opened',
            actor: 'system',
            details: { incidentId, handoffId: id, message: failure.message, receivingAgency: h.receiving_agency },
            at: now,
          })
        } else if (h.adapter) {
          uow.write(deps.outbox.enqueue(uow.tx, [dispatchMessage(h, next.retryAt!)]))
        }
        uow.write(deps.history.append(uow.tx, history))
        return uow.commit({ retries: next.retries, retryAt: next.retryAt, incident })
      })
    },

    /**
     * One attempt of an adapter handoff (the handoffs worker's job): the adapter is called with the
     * handoff id as idempotency key, then its answer is recorded. A worker killed between the two
     * leaves the handoff pending: the job runs again, the adapter sees the same key, and the
     * instance still resumes once.
     */
    async dispatch(id: string): Promise<'completed' | 'accepted' | 'failed' | 'duplicate' | 'not-due' | 'skipped'> {
      const now = clock.now()
      // One round trip before the call: the attempt counted if the handoff is pending and due (the row as it is now).
      const h = await deps.handoffs.startAttempt(db, id, now).one()
      if (!h || !h.adapter) {
        const seen = await deps.handoffs.find(db, id).one()
        return seen && seen.adapter && seen.state === HandoffState.PENDING ? 'not-due' : 'skipped'
      }
      const adapter = deps.adapters.get(h.adapter)
      const request = {
        handoffId: h.id,
        attempt: h.attempts,
        topic: h.topic,
        activityId: h.activity_id,
        businessKey: h.business_key,
        procedureCode: h.procedure_code,
        agency: h.agency,
        receivingAgency: h.receiving_agency,
        variables: h.variables,
      }
      const reply: AdapterAnswer = adapter
        ? await adapter.send(request).catch((err: Error) => ({ kind: 'failure' as const, message: err.message }))
        : { kind: 'failure', message: `Không có adapter "${h.adapter}"` }
      await deps.faults?.afterAdapterCall?.(h, reply)
      const actor = `adapter:${h.adapter}`
      try {
        if (reply.kind === 'accepted') return await service.markSent(id, actor, reply.trackingNumber)
        if (reply.kind === 'failure') {
          await service.fail(id, { message: reply.message, details: reply.details ?? null }, { actor })
          return 'failed'
        }
        await service.answer(id, reply, { actor })
        return 'completed'
      } catch (err) {
        if (err instanceof AppError && err.code === 'HANDOFF_ALREADY_ANSWERED') return 'duplicate'
        // An answer the process cannot take (a BPMN error nobody catches): the same answer would come again.
        if (err instanceof AppError && ['BPMN_ERROR_NOT_CAUGHT', 'PROCESS_STEP_FAILED'].includes(err.code)) {
          await service.fail(id, { message: err.message, retries: 0 }, { actor }).catch(() => {})
          return 'failed'
        }
        throw err
      }
    },

    /** The other system received the handoff and answers later by callback. */
    async markSent(id: string, actor: string, trackingNumber?: string): Promise<'accepted' | 'duplicate'> {
      const seen = await deps.handoffs.find(db, id).one()
      if (!seen) throw notFound(id)
      return transaction(db, async (uow) => {
        // The one lock order, as a callback's answer takes it: the step's locks, then the handoff's
        // (the history line's reference to the dossier would otherwise wait behind the answer, and it behind us).
        await deps.steps.lock(uow, { dossier: seen.dossier_id })
        const h = await lockRow(uow, id)
        if (h.state !== HandoffState.PENDING) return uow.finish('duplicate' as const)
        const now = clock.now()
        uow.write(
          deps.handoffs.update(uow.tx, id, {
            state: HandoffState.WAITING,
            ...(trackingNumber ? { tracking_number: trackingNumber } : {}),
            updated_at: now,
          }),
        )
        uow.write(
          deps.history.append(uow.tx, [
            {
              dossier_id: h.dossier_id,
              activity_id: h.activity_id,
              action: 'handoff.sent',
              actor,
              details: {
                handoffId: id,
                receivingAgency: h.receiving_agency,
                attempts: h.attempts,
                ...(trackingNumber ? { trackingNumber } : {}),
              },
              at: now,
            },
          ]),
        )
        return uow.commit('accepted' as const)
      })
    },

    /**
     * Runs every adapter handoff due by now (tests drive retries with it). `quietMs`: only those no
     * attempt touched for that long (the per-minute sweep after Redis lost jobs leaves in-flight ones to their job).
     */
    async dispatchDue(opts: { limit?: number; quietMs?: number } = {}): Promise<number> {
      const now = clock.now()
      const since = opts.quietMs ? new Date(now.getTime() - opts.quietMs) : undefined
      let n = 0
      for (const { id } of await deps.handoffs.dueForAdapters(db, now, opts.limit ?? 500, since))
        if ((await service.dispatch(id)) !== 'skipped') n++
      return n
    },
  }
  return service
}
export type HandoffService = ReturnType<typeof createHandoffService>
