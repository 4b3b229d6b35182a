import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/** A dossier handed to us by a peer deployment (hồ sơ liên thông đến), and the callback we owe it. */
export interface PeerHandoffRow {
  id: string
  sender_agency: string
  handoff_id: string
  dossier_id: string
  state: 'open' | 'callback_due' | 'called_back' | 'failed'
  result: Record<string, unknown> | null
  attempts: number
  next_attempt_at: Date | null
  last_error: string | null
  called_back_at: Date | null
  created_at: Date
  updated_at: Date
}

export function createPeerHandoffRepository() {
  return {
    find: (q: Queryable, senderAgency: string, handoffId: string) =>
      read<PeerHandoffRow>(q('peer_handoffs').where({ sender_agency: senderAgency, handoff_id: handoffId }).select('*')),
    findByDossier: (q: Queryable, dossierId: string) =>
      read<PeerHandoffRow>(q('peer_handoffs').where({ dossier_id: dossierId }).select('*')),
    findById: (q: Queryable, id: string) => read<PeerHandoffRow>(q('peer_handoffs').where({ id }).select('*')),
    lockById: (q: Queryable, id: string) => read<PeerHandoffRow>(q('peer_handoffs').where({ id }).forUpdate().select('*')),
    /** Records the dossier made for a handoff; a concurrent twin inserting first wins (nothing written). */
    insert: (q: Queryable, row: Pick<PeerHandoffRow, 'id' | 'sender_agency' | 'handoff_id' | 'dossier_id' | 'created_at' | 'updated_at'>) =>
      write(
        q('peer_handoffs')
          .insert({ ...row, state: 'open' })
          .onConflict(['sender_agency', 'handoff_id'])
          .ignore(),
      ),
    /** The dossier's process ended: the callback is owed now (a dossier that is not a peer's changes nothing). */
    endDossier: (q: Queryable, dossierId: string, result: Record<string, unknown>, now: Date) =>
      write(
        q('peer_handoffs')
          .where({ dossier_id: dossierId, state: 'open' })
          .update({ state: 'callback_due', result: JSON.stringify(result), next_attempt_at: now, updated_at: now }),
      ),
    due: (q: Queryable, now: Date, limit: number) =>
      read<{ id: string }>(
        q('peer_handoffs')
          .where({ state: 'callback_due' })
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .limit(limit)
          .select('id'),
      ),
    update: (q: Queryable, id: string, patch: Partial<Omit<PeerHandoffRow, 'id'>>) => write(q('peer_handoffs').where({ id }).update(patch)),
  }
}
export type PeerHandoffRepository = ReturnType<typeof createPeerHandoffRepository>
