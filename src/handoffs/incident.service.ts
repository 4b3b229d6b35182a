import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { Principal } from '../auth/principal.ts'
import { authorize } from '../auth/policy.ts'
import { hasRole } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import { HandoffState, type HandoffRepository } from './handoff.repository.ts'
import { dispatchMessage } from './handoff.service.ts'
import type { IncidentFilter, IncidentRepository, IncidentRow } from './incident.repository.ts'
import { fullRetries } from './retry.ts'

/** Keyset cursor over (created_at, id). */
export const encodeCursor = (row: { created_at: Date; id: string }) =>
  Buffer.from(JSON.stringify([new Date(row.created_at).toISOString(), row.id])).toString('base64url')

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown]
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) return { at, id }
  } catch {
    // fall through
  }
  throw new AppError('CURSOR_INVALID', 'Con trỏ phân trang không hợp lệ')
}

/**
 * Incidents (sự cố liên thông): listed for the agency's officers and admins, retried (the handoff
 * gets its retries again and is sent or fetchable at once; the incident resolves when it then
 * succeeds) or resolved by hand with a note.
 */
export function createIncidentService(deps: {
  db: Db
  clock: Clock
  incidents: IncidentRepository
  handoffs: HandoffRepository
  history: HistoryRepository
  outbox: OutboxRepository
}) {
  const { db, clock } = deps
  const notFound = (id: string) => new AppError('INCIDENT_NOT_FOUND', `Không tìm thấy sự cố ${id}`)

  /** The incident, locked, when it is open and the caller may manage it. */
  async function lockOpen(uow: UnitOfWork, p: Principal, id: string): Promise<IncidentRow> {
    const inc = uow.read(deps.incidents.lock(uow.tx, id))
    await uow.flush()
    const row = inc.one()
    if (!row) throw notFound(id)
    authorize('incident.manage', p, { agency: row.agency })
    if (row.state !== 'open') throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Sự cố đã được giải quyết', { resolvedAt: row.resolved_at })
    return row
  }

  return {
    async list(p: Principal, q: Omit<IncidentFilter, 'after'> & { cursor?: string }) {
      const agency = q.agency ?? (hasRole(p, 'admin') ? undefined : p.agency)
      authorize('incident.manage', p, { agency: agency ?? p.agency })
      const rows = await deps.incidents.list(db, {
        ...q,
        ...(agency ? { agency } : {}),
        ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
      })
      return { items: rows, nextCursor: rows.length === q.limit ? encodeCursor(rows.at(-1)!) : null }
    },

    async retry(p: Principal, id: string, retries: number | undefined): Promise<IncidentRow> {
      return transaction(db, async (uow) => {
        const row = await lockOpen(uow, p, id)
        const h = uow.read(deps.handoffs.lock(uow.tx, row.handoff_id))
        await uow.flush()
        const handoff = h.one()!
        if (handoff.state !== HandoffState.INCIDENT)
          throw new AppError('INCIDENT_ALREADY_RESOLVED', `Yêu cầu liên thông đang ở trạng thái "${handoff.state}"`)
        const now = clock.now()
        const left = retries ?? fullRetries(handoff.retry_cycle)
        uow.write(
          deps.handoffs.update(uow.tx, handoff.id, { state: HandoffState.PENDING, retries: left, next_attempt_at: now, updated_at: now }),
        )
        if (handoff.adapter) uow.write(deps.outbox.enqueue(uow.tx, [dispatchMessage(handoff, now)]))
        uow.write(
          deps.history.append(uow.tx, [
            {
              dossier_id: row.dossier_id,
              activity_id: row.activity_id,
              action: 'incident.retried',
              actor: p.userId,
              details: { incidentId: id, handoffId: handoff.id, retries: left },
              at: now,
            },
          ]),
        )
        return uow.commit(row)
      })
    },

    async resolve(p: Principal, id: string, note: string): Promise<IncidentRow> {
      return transaction(db, async (uow) => {
        const row = await lockOpen(uow, p, id)
        const now = clock.now()
        uow.write(deps.incidents.resolve(uow.tx, id, p.userId, note, now))
        uow.write(
          deps.history.append(uow.tx, [
            {
              dossier_id: row.dossier_id,
              activity_id: row.activity_id,
              action: 'incident.resolved',
              actor: p.userId,
              details: { incidentId: id, handoffId: row.handoff_id, note },
              at: now,
            },
          ]),
        )
        return uow.commit({ ...row, state: 'resolved' as const, resolved_at: now, resolved_by: p.userId, note })
      })
    },
  }
}
export type IncidentService = ReturnType<typeof createIncidentService>
