import { authorize, canReadDossier } from '../auth/policy.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import type { DossierRepository } from '../records/dossier.repository.ts'
import type { HandoffRepository, HandoffRow } from './handoff.repository.ts'
import type { IncidentRepository } from './incident.repository.ts'

/** A handoff as officers and supervisors see it. */
export const handoffDto = (h: HandoffRow, now: Date) => ({
  id: h.id,
  dossierId: h.dossier_id,
  businessKey: h.business_key,
  activityId: h.activity_id,
  topic: h.topic,
  receivingAgency: h.receiving_agency,
  adapter: h.adapter,
  state: h.state,
  createdAt: h.created_at,
  sentAt: h.sent_at,
  answeredAt: h.answered_at,
  dueAt: h.due_at,
  overdue: !!h.due_at && !['completed', 'cancelled'].includes(h.state) && new Date(h.due_at) <= now,
  attempts: h.attempts,
  retries: h.retries,
  lastError: h.error_message,
})

/** The handoffs of a dossier (its view), and the supervisors' look at stuck and overdue ones by receiving agency. */
export function createHandoffViewService(deps: {
  db: Db
  clock: Clock
  handoffs: HandoffRepository
  dossiers: DossierRepository
  /** Open incidents of every kind (portal sync, notifications, peer callbacks too) are counted beside the handoffs. */
  incidents: IncidentRepository
}) {
  const { db, clock } = deps
  return {
    async forDossier(p: Principal, dossierId: string) {
      const d = await deps.dossiers.find(db, dossierId).one()
      if (!d || !canReadDossier(p, d)) throw new AppError('DOSSIER_NOT_FOUND', 'Không tìm thấy hồ sơ')
      const now = clock.now()
      return { items: (await deps.handoffs.forDossier(db, dossierId)).map((h) => handoffDto(h, now)) }
    },

    /** `stuckMinutes`: a handoff waiting longer than this without an answer counts as stuck. */
    async supervision(p: Principal, q: { agency?: string; stuckMinutes: number; limit: number }) {
      const agency = q.agency ?? (hasRole(p, 'admin') ? null : p.agency)
      authorize('supervision.view', p, { agency: agency ?? p.agency })
      const now = clock.now()
      const window = { agency, now, stuckBefore: new Date(now.getTime() - q.stuckMinutes * 60_000) }
      const [byAgency, items, openIncidents] = await Promise.all([
        deps.handoffs.byReceivingAgency(db, window),
        deps.handoffs.needingAttention(db, { ...window, limit: q.limit }),
        deps.incidents.openByType(db, agency),
      ])
      return {
        byReceivingAgency: byAgency.map((r) => ({
          receivingAgency: r.receiving_agency,
          waiting: r.waiting,
          overdue: r.overdue,
          stuck: r.stuck,
          incidents: r.incidents,
        })),
        items: items.map((h) => handoffDto(h, now)),
        openIncidents: openIncidents.map((r) => ({ type: r.type, open: r.open })),
      }
    },
  }
}
export type HandoffViewService = ReturnType<typeof createHandoffViewService>
