import { defineObserver } from '../steps/observer.ts'
import type { PeerHandoffRepository } from './peer-handoff.repository.ts'

/**
 * When the process of a dossier a peer handed us ends, the callback owed to the sender is decided in
 * that step's transaction (so it is neither lost nor sent twice): `peerOutcome`, `peerRefused`, our
 * dossier code and the variables our procedure answers with; the result documents are listed when it
 * is sent. Other dossiers change nothing.
 */
export function createPeerCallbackObserver(deps: { repo: PeerHandoffRepository }) {
  return defineObserver({
    name: 'peer-callbacks',
    reads: [],
    async apply({ result, instance, dossier, version, uow, now }) {
      const v = result.variables
      // Only a dossier opened for a peer carries `peerAgency` (set on intake): others pay nothing.
      if (!result.ended || instance.parent_instance_id || typeof v.peerAgency !== 'string') return []
      uow.write(
        deps.repo.endDossier(
          uow.tx,
          dossier.id,
          {
            // The variables our procedure answers with (`tthc:procedure answerVariables`), e.g. a tax notice.
            ...Object.fromEntries((version.metadata.answerVariables ?? []).map((name) => [name, v[name] ?? null])),
            peerOutcome: v.outcome ?? null,
            peerRefused: v.refused === true,
            peerDossierCode: dossier.code,
          },
          now,
        ),
      )
      // Its first attempt at once, as a job; retries are due rows the per-minute sweep sends.
      return [{ topic: 'peer.callback', payload: { dossierId: dossier.id }, availableAt: now }]
    },
  })
}
