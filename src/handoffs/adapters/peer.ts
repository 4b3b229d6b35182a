import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../signature.ts'
import type { AdapterAnswer, HandoffAdapter, HandoffRequest } from './adapter.ts'
import type { Peer } from './http.ts'

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
}): HandoffAdapter {
  return {
    name: 'peer',
    async send(req: HandoffRequest): Promise<AdapterAnswer> {
      const peer = req.receivingAgency ? deps.peers[req.receivingAgency] : undefined
      if (!peer)
        return { kind: 'failure', message: `Chưa cấu hình hệ thống của cơ quan ${req.receivingAgency ?? '(không có)'} (HANDOFF_PEERS)` }
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
      const timestamp = String(Math.floor(deps.now().getTime() / 1000))
      let res: Response
      try {
        res = await fetch(new URL('api/peer/dossiers', peer.url.endsWith('/') ? peer.url : `${peer.url}/`), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [IDEMPOTENCY_HEADER]: req.handoffId,
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signBody(peer.key, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(deps.timeoutMs),
        })
      } catch (err) {
        return { kind: 'failure', message: `Không gọi được hệ thống của ${req.receivingAgency}: ${(err as Error).message}` }
      }
      const text = await res.text().catch(() => '')
      if (res.status === 200 || res.status === 202) return { kind: 'accepted' }
      return { kind: 'failure', message: `Hệ thống của ${req.receivingAgency} trả lời HTTP ${res.status}`, details: text.slice(0, 2000) }
    },
  }
}
