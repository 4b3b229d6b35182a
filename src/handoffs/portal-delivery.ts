import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import { AppError } from '../errors.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import type { IncidentRepository } from './incident.repository.ts'
import type { OutgoingIncidentSource } from './incident.service.ts'
import type { NationalPortal, PortalStatusEvent } from './national-portal.ts'
import {
  portalAttemptJobId,
  portalAttemptMessage,
  portalEventId,
  type PortalEventRepository,
  type PortalEventRow,
} from './portal-event.repository.ts'
import { fullRetries, nextRetry } from './retry.ts'

/** An attempt in flight holds its event this long: another copy of its job does not send it meanwhile. */
export const PORTAL_LEASE_MS = 5 * 60_000

export type PortalOutcome = 'acknowledged' | 'duplicate' | 'blocked' | 'skipped' | 'retry' | 'incident'

/**
 * Status events to the national portal (đồng bộ DVCQG), on the failure model of handoffs: each
 * attempt is one job; a refused or unanswered event is retried on the configured cycle (its time in
 * Postgres, its job in the outbox, so it survives Redis), and when its retries run out an incident
 * (`failedPortalSync`) with its dossier history line waits for an admin. A dossier's events reach the
 * portal in their order: a later one waits while an earlier one is not acknowledged.
 */
export function createPortalDelivery(deps: {
  db: Db
  clock: Clock
  log: Logger
  portal: NationalPortal
  events: PortalEventRepository
  outbox: OutboxRepository
  incidents: IncidentRepository
  retryCycle: string
}) {
  const { db, clock } = deps
  return {
    async deliver(outboxId: number): Promise<PortalOutcome> {
      const now = clock.now()
      const row = await deps.events.claim(db, outboxId, now, new Date(now.getTime() + PORTAL_LEASE_MS)).one()
      if (!row) {
        const seen = await deps.events.find(db, outboxId).one()
        if (!seen || seen.acknowledged_at) return 'duplicate'
        if (seen.delivery_state === null && (await deps.events.blocked(db, outboxId).one())) return 'blocked'
        return 'skipped'
      }
      const p = row.payload
      const event: PortalStatusEvent = {
        eventId: portalEventId(row.id),
        dossierId: p.dossierId,
        code: p.code,
        nationalStatus: p.nationalStatus,
        at: p.at,
      }
      let receipt: string
      try {
        receipt = (await deps.portal.pushStatus(event)).receipt
      } catch (err) {
        return failed(row, event, (err as Error).message || String(err))
      }
      const at = clock.now()
      const ack = { id: row.id, ...event, receipt, at }
      if (row.delivery_error === null) {
        // Never failed, so no incident to resolve: one statement (the common case).
        await deps.events.acknowledgeAndWakeNext(db, ack).rows()
      } else {
        await db.transaction(async (tx) => {
          await deps.events.acknowledgeAndWakeNext(tx, ack).rows()
          await deps.incidents.resolveForSource(tx, 'portalEvent', String(row.id), 'acknowledged by the portal', at)
        })
      }
      deps.log.debug({ dossier: event.code, status: event.nationalStatus, receipt }, 'status synced to national portal')
      return 'acknowledged'
    },
  }

  async function failed(row: PortalEventRow, event: PortalStatusEvent, error: string): Promise<PortalOutcome> {
    const now = clock.now()
    const next = nextRetry(deps.retryCycle, row.retries_left, now)
    await db.transaction(async (tx) => {
      await deps.events.failed(tx, row.id, { ...next, error })
      if (next.retryAt) {
        await deps.outbox.enqueue(tx, [portalAttemptMessage(row, portalAttemptJobId(row.id, row.delivery_attempts), next.retryAt)])
        return
      }
      await deps.incidents.openOutgoing(
        tx,
        {
          id: randomUUID(),
          type: 'failedPortalSync',
          source: 'portalEvent',
          sourceId: String(row.id),
          dossierId: event.dossierId,
          receivingAgency: null,
          message: error,
          details: {
            eventId: event.eventId,
            code: event.code,
            status: row.payload.status ?? null,
            nationalStatus: event.nationalStatus,
            at: event.at,
            attempts: row.delivery_attempts,
          },
        },
        now,
      )
    })
    if (next.retryAt) {
      deps.log.info(
        { dossier: event.code, status: event.nationalStatus, error, retryAt: next.retryAt },
        'portal did not acknowledge, will retry',
      )
      return 'retry'
    }
    deps.log.warn({ dossier: event.code, status: event.nationalStatus, error }, 'portal sync failed after its retries: incident opened')
    return 'incident'
  }
}
export type PortalDelivery = ReturnType<typeof createPortalDelivery>

/**
 * The incidents of portal events (`failedPortalSync`): a retry delivers the event again at once with
 * the cycle's retries (the portal's acknowledgement then resolves the incident); closing one by hand
 * means it is never sent, and the dossier's later events go on.
 */
export function createPortalIncidentSource(deps: {
  events: PortalEventRepository
  outbox: OutboxRepository
  retryCycle: string
}): OutgoingIncidentSource {
  const lockIncident = async (uow: UnitOfWork, sourceId: string) => {
    const found = uow.read(deps.events.lock(uow.tx, Number(sourceId)))
    await uow.flush()
    const row = found.one()
    if (!row || row.delivery_state !== 'incident')
      throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Sự kiện trạng thái không còn chờ xử lý sự cố', {
        acknowledged: !!row?.acknowledged_at,
      })
    return row
  }
  return {
    async retry(uow, incident, now) {
      const row = await lockIncident(uow, incident.source_id)
      const retries = fullRetries(deps.retryCycle)
      uow.write(deps.events.reopen(uow.tx, row.id, retries, now))
      uow.write(deps.outbox.enqueue(uow.tx, [portalAttemptMessage(row, portalAttemptJobId(row.id, row.delivery_attempts), now)]))
      return { eventId: portalEventId(row.id), retries }
    },
    async resolvedByHand(uow, incident, now) {
      const row = await lockIncident(uow, incident.source_id)
      uow.write(deps.events.close(uow.tx, row.id))
      const next = uow.read(deps.events.nextOfDossier(uow.tx, row.id, row.payload.dossierId))
      await uow.flush()
      const n = next.one()
      if (n)
        uow.write(
          deps.outbox.enqueue(uow.tx, [portalAttemptMessage(n, `${portalAttemptJobId(n.id, n.delivery_attempts)}-after-${row.id}`, now)]),
        )
    },
  }
}
