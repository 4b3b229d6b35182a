import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import type { UnitOfWork } from '../db/unit-of-work.ts'
import type { DocumentRepository } from '../documents/document.repository.ts'
import type { IncidentRepository } from '../handoffs/incident.repository.ts'
import type { OutgoingIncidentSource } from '../handoffs/incident.service.ts'
import type { OutboxRepository } from '../outbox/outbox.repository.ts'
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../handoffs/signature.ts'
import type { PeerHandoffRepository } from './peer-handoff.repository.ts'

/** Waits before the next attempt of a callback the sender did not take; after the last, the row is `failed`. */
export const CALLBACK_BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000, 24 * 3600_000]
/** An attempt in flight holds the row this long: a second worker does not send it meanwhile. */
const LEASE_MS = 5 * 60_000

/**
 * Calls the sender back (`POST <peer url>/api/handoffs/<handoffId>/callback`, signed with the peer's
 * key) once our dossier's process ended. 200 — or 409, the sender already has the answer — ends it;
 * anything else is retried on CALLBACK_BACKOFF_MS.
 */
export function createPeerCallbackService(deps: {
  db: Db
  clock: Clock
  log: Logger
  peers: Readonly<Record<string, { url: string; key: string }>>
  timeoutMs: number
  repo: PeerHandoffRepository
  documents: DocumentRepository
  /** A callback whose retries ran out opens an incident (`failedPeerCallback`); its delivery closes it. */
  incidents: IncidentRepository
  outbox: OutboxRepository
  /** A dossier our own deployment handed itself (no peer for the sender's agency): answered in-process (local-peer.ts). */
  local?: (handoffId: string, variables: Record<string, unknown>) => Promise<void>
}) {
  const { db, clock } = deps
  /** The callback arrived: the row is done and its incident, if one is open, resolved, in one transaction. */
  const calledBack = async (id: string): Promise<'sent'> => {
    const done = clock.now()
    await db.transaction(async (tx) => {
      await deps.repo.update(tx, id, {
        state: 'called_back',
        called_back_at: done,
        next_attempt_at: null,
        last_error: null,
        updated_at: done,
      })
      await deps.incidents.resolveForSource(tx, 'peerCallback', id, 'callback delivered', done)
    })
    return 'sent'
  }
  const service = {
    async deliver(id: string): Promise<'sent' | 'retry' | 'failed' | 'skipped'> {
      const now = clock.now()
      // The lease: only the attempt that moves next_attempt_at on sends.
      const claimed = await db('peer_handoffs')
        .where({ id, state: 'callback_due' })
        .where('next_attempt_at', '<=', now)
        .update({ next_attempt_at: new Date(now.getTime() + LEASE_MS), attempts: db.raw('attempts + 1'), updated_at: now })
        .returning('*')
      const row = claimed[0] as import('./peer-handoff.repository.ts').PeerHandoffRow | undefined
      if (!row) return 'skipped'
      const peer = deps.peers[row.sender_agency]
      const results = (await deps.documents.list(db, row.dossier_id)).filter((d) => d.kind === 'result')
      const body = JSON.stringify({
        outcome: 'complete',
        variables: {
          ...row.result,
          peerResultDocuments: results.map((d) => ({ documentId: d.id, fileName: d.file_name, sha256: d.sha256 })),
        },
      })
      let error: string
      if (!peer && deps.local) {
        try {
          await deps.local(row.handoff_id, (JSON.parse(body) as { variables: Record<string, unknown> }).variables)
          return await calledBack(id)
        } catch (err) {
          error = `Không trả được kết quả cho hồ sơ gửi trong hệ thống: ${(err as Error).message}`
        }
      } else if (!peer) error = `Chưa cấu hình hệ thống của cơ quan ${row.sender_agency} (HANDOFF_PEERS)`
      else {
        const timestamp = String(Math.floor(clock.now().getTime() / 1000))
        try {
          const res = await fetch(new URL(`api/handoffs/${row.handoff_id}/callback`, peer.url.endsWith('/') ? peer.url : `${peer.url}/`), {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              [TIMESTAMP_HEADER]: timestamp,
              [SIGNATURE_HEADER]: signBody(peer.key, timestamp, body),
            },
            body,
            signal: AbortSignal.timeout(deps.timeoutMs),
          })
          const text = await res.text().catch(() => '')
          if (res.status === 200 || res.status === 409) {
            return await calledBack(id)
          }
          error = `Hệ thống của ${row.sender_agency} trả lời HTTP ${res.status}: ${text.slice(0, 500)}`
        } catch (err) {
          error = `Không gọi được hệ thống của ${row.sender_agency}: ${(err as Error).message}`
        }
      }
      const wait = CALLBACK_BACKOFF_MS[row.attempts - 1]
      const later = clock.now()
      deps.log.warn({ peerHandoff: id, attempts: row.attempts, error }, 'peer callback failed')
      await db.transaction(async (tx) => {
        await deps.repo.update(tx, id, {
          state: wait === undefined ? 'failed' : 'callback_due',
          next_attempt_at: wait === undefined ? null : new Date(later.getTime() + wait),
          last_error: error.slice(0, 2000),
          updated_at: later,
        })
        // Retries ran out: an incident a person sees, with its history line (none if one is open already).
        if (wait === undefined)
          await deps.incidents.openOutgoing(
            tx,
            {
              id: randomUUID(),
              type: 'failedPeerCallback',
              source: 'peerCallback',
              sourceId: id,
              dossierId: row.dossier_id,
              receivingAgency: row.sender_agency,
              message: error,
              details: { peerHandoffId: id, senderAgency: row.sender_agency, handoffId: row.handoff_id, attempts: row.attempts },
            },
            later,
          )
      })
      return wait === undefined ? 'failed' : 'retry'
    },

    /** The callback of a dossier that ended (the `peer.callback` job). */
    async deliverForDossier(dossierId: string): Promise<'sent' | 'retry' | 'failed' | 'skipped'> {
      const row = await deps.repo.findByDossier(db, dossierId).one()
      return row ? service.deliver(row.id) : 'skipped'
    },

    /**
     * The incidents of callbacks whose retries ran out (`failedPeerCallback`): a retry makes the
     * callback due again with a fresh set of attempts and queues it at once (the same signed body:
     * the sender takes it once, a second copy gets 409); its delivery closes the incident.
     */
    incidentSource: {
      async retry(uow: UnitOfWork, incident: { source_id: string }, now: Date) {
        const found = uow.read(deps.repo.lockById(uow.tx, incident.source_id))
        await uow.flush()
        const row = found.one()
        if (!row || row.state !== 'failed')
          throw new AppError('INCIDENT_ALREADY_RESOLVED', 'Lời gọi trả kết quả liên thông không còn ở trạng thái lỗi', {
            state: row?.state ?? null,
          })
        uow.write(deps.repo.update(uow.tx, row.id, { state: 'callback_due', attempts: 0, next_attempt_at: now, updated_at: now }))
        uow.write(deps.outbox.enqueue(uow.tx, [{ topic: 'peer.callback', payload: { dossierId: row.dossier_id }, availableAt: now }]))
        return { peerHandoffId: row.id, senderAgency: row.sender_agency }
      },
    } satisfies OutgoingIncidentSource,

    /** Every callback due by now (the per-minute sweep; tests call it). */
    async deliverDue(limit = 100): Promise<number> {
      let n = 0
      for (const { id } of await deps.repo.due(db, clock.now(), limit)) if ((await service.deliver(id)) !== 'skipped') n++
      return n
    },
  }
  return service
}
export type PeerCallbackService = ReturnType<typeof createPeerCallbackService>
