import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { Principal } from '../auth/principal.ts'
import { allows, authorize, type Permission } from '../auth/policy.ts'
import { hasRole } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { transaction } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import { HandoffState, type HandoffRepository } from './handoff.repository.ts'
import { dispatchMessage } from './handoff.service.ts'
import {
  INCIDENT_TYPES,
  type IncidentFilter,
  type IncidentRepository,
  type IncidentRow,
  type IncidentSource,
  type IncidentType,
} from './incident.repository.ts'
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

/** Who may list, retry and resolve incidents of each kind (rows of src/auth/policy.ts). */
export const INCIDENT_PERMISSION: Record<IncidentType, Permission> = {
  failedExternalTask: 'incident.manage',
  failedJob: 'incident.manage',
  failedNotification: 'incident.manage',
  failedPeerCallback: 'incident.manage',
  failedPortalSync: 'incident.portalSync.manage',
}

/**
 * What the incidents of one kind of outgoing message (not a handoff) need from its module: put the
 * failed thing back on its way in the caller's transaction (throwing INCIDENT_ALREADY_RESOLVED when it
 * is no longer failed), and, optionally, what closing its incident by hand implies.
 */
export interface OutgoingIncidentSource {
  retry(uow: UnitOfWork, incident: IncidentRow, now: Date): Promise<Record<string, unknown>>
  resolvedByHand?(uow: UnitOfWork, incident: IncidentRow, now: Date): Promise<void>
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
  /** The other kinds' modules (portal events, notifications, peer callbacks). */
  sources?: Partial<Record<Exclude<IncidentSource, 'handoff'>, OutgoingIncidentSource>>
}) {
  const { db, clock } = deps
  const sourceOf = (row: IncidentRow): OutgoingIncidentSource => {
    const s = row.source === 'handoff' ? undefined : deps.sources?.[row.source]
    if (!s) throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Sự cố này không thử lại được trên máy chủ này')
    return s
  }
  const notFound = (id: string) => new AppError('INCIDENT_NOT_FOUND', `Không tìm thấy sự cố ${id}`)

  /** The incident, locked, when it is open and the caller may manage it. */
  async function lockOpen(uow: UnitOfWork, p: Principal, id: string): Promise<IncidentRow> {
    const inc = uow.read(deps.incidents.lock(uow.tx, id))
    await uow.flush()
    const row = inc.one()
    if (!row) throw notFound(id)
    authorize(INCIDENT_PERMISSION[row.type] ?? 'incident.manage', p, { agency: row.agency })
    if (row.state !== 'open') throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Sự cố đã được giải quyết', { resolvedAt: row.resolved_at })
    return row
  }

  return {
    /** `type`: one kind only (refused when the caller may not manage it); without it, every kind the caller may. */
    async list(p: Principal, q: Omit<IncidentFilter, 'after' | 'types'> & { cursor?: string; type?: IncidentType }) {
      const { type, ...filter } = q
      const agency = q.agency ?? (hasRole(p, 'admin') ? undefined : p.agency)
      const resource = { agency: agency ?? p.agency }
      authorize(type ? INCIDENT_PERMISSION[type] : 'incident.manage', p, resource)
      const types = type ? [type] : INCIDENT_TYPES.filter((t) => allows(INCIDENT_PERMISSION[t], p, resource))
      const rows = await deps.incidents.list(db, {
        ...filter,
        ...(types.length < INCIDENT_TYPES.length ? { types } : {}),
        ...(agency ? { agency } : {}),
        ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
      })
      return { items: rows, nextCursor: rows.length === q.limit ? encodeCursor(rows.at(-1)!) : null }
    },

    async retry(p: Principal, id: string, retries: number | undefined): Promise<IncidentRow> {
      return transaction(db, async (uow) => {
        const row = await lockOpen(uow, p, id)
        if (row.handoff_id === null) {
          const now = clock.now()
          const details = await sourceOf(row).retry(uow, row, now)
          uow.write(
            deps.history.append(uow.tx, [
              {
                dossier_id: row.dossier_id,
                action: 'incident.retried',
                actor: p.userId,
                details: { incidentId: id, type: row.type, source: row.source, sourceId: row.source_id, ...details },
                at: now,
              },
            ]),
          )
          return uow.commit(row)
        }
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
        if (row.handoff_id === null) await deps.sources?.[row.source as Exclude<IncidentSource, 'handoff'>]?.resolvedByHand?.(uow, row, now)
        uow.write(deps.incidents.resolve(uow.tx, id, p.userId, note, now))
        uow.write(
          deps.history.append(uow.tx, [
            {
              dossier_id: row.dossier_id,
              activity_id: row.activity_id,
              action: 'incident.resolved',
              actor: p.userId,
              details:
                row.handoff_id === null
                  ? { incidentId: id, type: row.type, source: row.source, sourceId: row.source_id, note }
                  : { incidentId: id, handoffId: row.handoff_id, note },
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
