import type { Applicant } from '../dossiers/dossier.service.ts'
import type { AdapterAnswer, HandoffRequest } from '../handoffs/adapters/adapter.ts'
import type { PeerDossierContent } from '../handoffs/adapters/peer.ts'
import type { HandoffService } from '../handoffs/handoff.service.ts'
import { AppError } from '../errors.ts'
import type { PeerIntakeService } from './peer-intake.service.ts'

/**
 * Liên thông inside one deployment (docs/handoffs.md "One deployment for both agencies"): a `peer`
 * handoff whose receiving agency has no system configured in HANDOFF_PEERS is taken by the receiving
 * procedure deployed in this same system, as a peer would take it: a dossier of that procedure with our
 * applicant, data and documents, worked by the receiving agency's officers here; when it ends, its
 * answer resumes the waiting dossier (the callback, in-process). A receiving procedure not deployed here
 * either is a failure (retried, then an incident): the handoff never passes silently.
 */
export function createLocalPeer(deps: { intake: PeerIntakeService; handoffs: HandoffService }) {
  return {
    /** The adapter's side: opens the receiving dossier here. */
    async open(req: HandoffRequest, content: PeerDossierContent): Promise<AdapterAnswer> {
      try {
        await deps.intake.accept({
          handoffId: req.handoffId,
          agency: req.agency,
          procedureCode: req.topic,
          businessKey: req.businessKey,
          senderProcedureCode: req.procedureCode,
          applicant: content.applicant as unknown as Applicant,
          variables: req.variables,
          documents: content.documents.map((d) => ({
            fileName: d.fileName,
            contentType: d.contentType,
            sha256: d.sha256,
            content: d.content.toString('base64'),
          })),
        })
        return { kind: 'accepted' }
      } catch (err) {
        return {
          kind: 'failure',
          message: `Chưa cấu hình hệ thống của cơ quan ${req.receivingAgency ?? '(không có)'} (HANDOFF_PEERS) và thủ tục ${req.topic} không nhận được trong hệ thống này: ${(err as Error).message}`,
        }
      }
    },

    /** The callback's side: the receiving dossier ended; the waiting one resumes once (a repeat changes nothing). */
    async answer(handoffId: string, variables: Record<string, unknown>): Promise<void> {
      const h = await deps.handoffs.find(handoffId)
      try {
        await deps.handoffs.answer(handoffId, { kind: 'complete', variables }, { actor: `peer:${h?.receiving_agency ?? 'local'}` })
      } catch (err) {
        if (err instanceof AppError && err.code === 'HANDOFF_ALREADY_ANSWERED') return
        throw err
      }
    },
  }
}
export type LocalPeer = ReturnType<typeof createLocalPeer>
