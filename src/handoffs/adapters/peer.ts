import type { AdapterAnswer, HandoffAdapter, HandoffRequest } from './adapter.ts'
import { peerOf, postSigned, type Peer } from './http.ts'

/** What the peer adapter sends of the sending dossier besides the handoff's variables. */
export interface PeerDossierContent {
  applicant: Record<string, unknown>
  documents: Array<{ fileName: string; contentType: string; sha256: string; content: Buffer }>
}

/**
 * The `peer` adapter: hands the dossier to another deployment of this system, which opens a dossier
 * of its procedure (`tthc:handoff procedure="…"`, carried as the topic) with our applicant, the
 * handoff's variables and our documents (content and SHA-256): `POST <peer url>/api/peer/dossiers`,
 * signed with the peer's key. 202 or 200 (the same dossier, a retried request) mean received: the
 * answer comes by the signed callback when the peer's dossier ends. Anything else is a failure,
 * retried on the task's retry cycle (an incident when none is left).
 */
export function createPeerAdapter(deps: {
  peers: Readonly<Record<string, Peer>>
  now: () => Date
  timeoutMs: number
  load: (handoffId: string) => Promise<PeerDossierContent>
  /**
   * No peer configured for the receiving agency: its procedure, deployed in this same system, takes the
   * dossier (src/peers/local-peer.ts); a failure when it is not deployed here either.
   */
  local?: (req: HandoffRequest, content: PeerDossierContent) => Promise<AdapterAnswer>
}): HandoffAdapter {
  return {
    name: 'peer',
    async send(req: HandoffRequest): Promise<AdapterAnswer> {
      const peer = peerOf(deps.peers, req)
      if ('kind' in peer && deps.local) return deps.local(req, await deps.load(req.handoffId))
      if ('kind' in peer) return peer
      const content = await deps.load(req.handoffId)
      const body = JSON.stringify({
        handoffId: req.handoffId,
        agency: req.agency,
        procedureCode: req.topic,
        businessKey: req.businessKey,
        senderProcedureCode: req.procedureCode,
        applicant: content.applicant,
        variables: req.variables,
        documents: content.documents.map((d) => ({
          fileName: d.fileName,
          contentType: d.contentType,
          sha256: d.sha256,
          content: d.content.toString('base64'),
        })),
      })
      const sent = await postSigned(
        new URL('api/peer/dossiers', peer.url.endsWith('/') ? peer.url : `${peer.url}/`).href,
        peer,
        req,
        body,
        deps,
      )
      if ('kind' in sent) return sent
      const { res, text } = sent
      if (res.status === 200 || res.status === 202) return { kind: 'accepted' }
      return { kind: 'failure', message: `Hệ thống của ${req.receivingAgency} trả lời HTTP ${res.status}`, details: text.slice(0, 2000) }
    },
  }
}
