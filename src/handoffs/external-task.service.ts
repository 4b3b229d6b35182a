import type { Principal } from '../auth/principal.ts'
import { hasRole } from '../auth/principal.ts'
import { allows, authorize } from '../auth/policy.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import { fromTyped, toTyped, type TypedValue } from './camunda-variables.ts'
import type { FetchWake } from './fetch-wake.ts'
import { HandoffState, type HandoffRepository, type HandoffRow } from './handoff.repository.ts'
import type { HandoffService } from './handoff.service.ts'
import { decodeCursor, encodeCursor } from './incident.service.ts'

export interface FetchTopic {
  topicName: string
  lockDuration: number
  /** Variable names to send (all when absent). */
  variables?: string[]
}

export interface FetchRequest {
  workerId: string
  maxTasks: number
  usePriority?: boolean
  /** Long polling: wait up to this many ms for a task when none is there. */
  asyncResponseTimeout?: number
  topics: FetchTopic[]
}

/** An external task as Camunda 7's REST API writes it (the fields a worker reads). */
export function externalTaskDto(h: HandoffRow, variables?: Record<string, Required<TypedValue>>) {
  return {
    id: h.id,
    topicName: h.topic,
    workerId: h.worker_id,
    lockExpirationTime: h.lock_expires_at,
    processInstanceId: h.instance_id,
    processDefinitionKey: h.procedure_code,
    activityId: h.activity_id,
    activityInstanceId: h.execution_id,
    executionId: h.execution_id,
    businessKey: h.business_key,
    retries: h.retries,
    errorMessage: h.error_message,
    priority: h.priority,
    suspended: false,
    tenantId: h.receiving_agency,
    createTime: h.created_at,
    ...(variables ? { variables } : {}),
  }
}

/** How often a long poll re-checks when no NOTIFY woke it (lapsed locks, retries coming due). */
const RECHECK_MS = 500
/** The longest long poll (Camunda 7 allows 30 minutes; a proxy would cut one that long). */
export const MAX_ASYNC_RESPONSE_MS = 60_000

/**
 * The Camunda 7 external-task API over handoffs without an adapter: other agencies' workers fetch
 * and lock tasks of their topics, then complete them, report a failure or a BPMN error, extend or
 * release their lock. Answers go through the handoff service: exactly once, under the worker's lock.
 */
export function createExternalTaskService(deps: {
  db: Db
  clock: Clock
  handoffs: HandoffService
  repo: HandoffRepository
  wake: FetchWake
}) {
  const { db, clock } = deps
  const notFound = (id: string) => new AppError('EXTERNAL_TASK_NOT_FOUND', `Không tìm thấy công việc bên ngoài ${id}`)

  /** The external task, for a caller allowed `permission` on it (a worker of its topic and agency, or an admin reading). */
  async function taskFor(p: Principal, id: string, permission: 'externalTask.work' | 'externalTask.read'): Promise<HandoffRow> {
    const h = await deps.repo.find(db, id).one()
    if (!h || h.adapter !== null) throw notFound(id)
    authorize(permission, p, { agency: h.receiving_agency ?? p.agency, topic: h.topic })
    return h
  }
  const actor = (workerId: string) => `worker:${workerId}`

  async function lockSome(p: Principal, req: FetchRequest) {
    const now = clock.now()
    const out: Array<ReturnType<typeof externalTaskDto>> = []
    for (const topic of req.topics) {
      if (out.length >= req.maxTasks) break
      const rows = await deps.repo.fetchAndLock(db, {
        topic: topic.topicName,
        workerId: req.workerId,
        until: new Date(now.getTime() + topic.lockDuration),
        now,
        limit: req.maxTasks - out.length,
        usePriority: req.usePriority ?? false,
        agency: p.agency,
      })
      for (const h of rows) out.push(externalTaskDto(h, toTyped(h.variables, topic.variables)))
    }
    return out
  }

  return {
    async fetchAndLock(p: Principal, req: FetchRequest, signal?: AbortSignal) {
      for (const t of req.topics) authorize('externalTask.work', p, { agency: p.agency, topic: t.topicName })
      const deadline = Date.now() + Math.min(req.asyncResponseTimeout ?? 0, MAX_ASYNC_RESPONSE_MS)
      for (;;) {
        const tasks = await lockSome(p, req)
        const left = deadline - Date.now()
        if (tasks.length || left <= 0 || signal?.aborted) return tasks
        await deps.wake.wait(Math.min(left, RECHECK_MS), signal)
      }
    },

    async complete(p: Principal, id: string, body: { workerId: string; variables?: Record<string, TypedValue> }) {
      await taskFor(p, id, 'externalTask.work')
      const r = await deps.handoffs.answer(
        id,
        { kind: 'complete', variables: fromTyped(body.variables) },
        { actor: actor(body.workerId), workerId: body.workerId },
      )
      return { id, state: HandoffState.COMPLETED, dossierStatus: r.status }
    },

    async bpmnError(
      p: Principal,
      id: string,
      body: { workerId: string; errorCode: string; errorMessage?: string; variables?: Record<string, TypedValue> },
    ) {
      await taskFor(p, id, 'externalTask.work')
      const r = await deps.handoffs.answer(
        id,
        { kind: 'bpmnError', errorCode: body.errorCode, errorMessage: body.errorMessage ?? null, variables: fromTyped(body.variables) },
        { actor: actor(body.workerId), workerId: body.workerId },
      )
      return { id, state: HandoffState.COMPLETED, dossierStatus: r.status }
    },

    async failure(
      p: Principal,
      id: string,
      body: { workerId: string; errorMessage?: string; errorDetails?: string; retries?: number; retryTimeout?: number },
    ) {
      await taskFor(p, id, 'externalTask.work')
      const r = await deps.handoffs.fail(
        id,
        {
          message: body.errorMessage ?? 'external worker failure',
          details: body.errorDetails ?? null,
          ...(body.retries !== undefined ? { retries: body.retries, retryTimeoutMs: body.retryTimeout ?? 0 } : {}),
        },
        { actor: actor(body.workerId), workerId: body.workerId },
      )
      return { id, state: r.incident ? HandoffState.INCIDENT : HandoffState.PENDING, retries: r.retries }
    },

    async extendLock(p: Principal, id: string, body: { workerId: string; newDuration: number }) {
      await taskFor(p, id, 'externalTask.work')
      return transaction(db, async (uow) => {
        const locked = uow.read(deps.repo.lock(uow.tx, id))
        await uow.flush()
        const h = locked.one()!
        const now = clock.now()
        if (h.state !== HandoffState.PENDING || h.worker_id !== body.workerId || !h.lock_expires_at || new Date(h.lock_expires_at) <= now)
          throw new AppError('EXTERNAL_TASK_LOCK_NOT_HELD', `Worker ${body.workerId} không giữ khóa còn hiệu lực của công việc ${id}`)
        const until = new Date(now.getTime() + body.newDuration)
        uow.write(deps.repo.update(uow.tx, id, { lock_expires_at: until, updated_at: now }))
        return uow.commit({ id, lockExpirationTime: until })
      })
    },

    async unlock(p: Principal, id: string) {
      await taskFor(p, id, 'externalTask.work')
      await deps.repo.unlock(db, id, clock.now())
      return { id, state: HandoffState.PENDING }
    },

    get: async (p: Principal, id: string) => externalTaskDto(await taskFor(p, id, 'externalTask.read')),

    async list(
      p: Principal,
      q: { topicName?: string; workerId?: string; locked?: boolean; dossierId?: string; state?: string; limit: number; cursor?: string },
    ) {
      authorize('externalTask.read', p, { agency: p.agency })
      const admin = hasRole(p, 'admin') && !allows('externalTask.work', p, { agency: p.agency })
      if (!admin && q.topicName && !p.topics?.includes(q.topicName)) return { items: [], nextCursor: null }
      const rows = await deps.repo.list(db, {
        externalOnly: true,
        now: clock.now(),
        limit: q.limit,
        ...(q.topicName ? { topics: [q.topicName] } : admin ? {} : { topics: p.topics ?? [] }),
        ...(admin ? {} : { receivingAgencyOrNone: p.agency }),
        ...(q.workerId ? { workerId: q.workerId } : {}),
        ...(q.locked !== undefined ? { locked: q.locked } : {}),
        ...(q.dossierId ? { dossierId: q.dossierId } : {}),
        ...(q.state ? { state: q.state } : {}),
        ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
      })
      return { items: rows.map((h) => externalTaskDto(h)), nextCursor: rows.length === q.limit ? encodeCursor(rows.at(-1)!) : null }
    },
  }
}
export type ExternalTaskService = ReturnType<typeof createExternalTaskService>
