import { createHash, randomUUID } from 'node:crypto'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/knex.ts'
import type { DocumentRepository } from '../documents/document.repository.ts'
import { DOCUMENT_TYPES, type DocumentService } from '../documents/document.service.ts'
import type { Applicant, DossierService } from '../dossiers/dossier.service.ts'
import { AppError } from '../errors.ts'
import { verifyBody } from '../handoffs/signature.ts'
import { Channel } from '../records/statuses.ts'
import type { PeerHandoffRepository } from './peer-handoff.repository.ts'

/** One document of the sender's dossier, with its content and the SHA-256 the sender computed. */
export interface PeerDocument {
  fileName: string
  contentType: string
  sha256: string
  /** The file, base64. */
  content: string
}

/** `POST /api/peer/dossiers`: a peer deployment hands us a dossier (docs/handoffs.md). */
export interface PeerDossierRequest {
  handoffId: string
  /** The sending agency: the key of its entry in our HANDOFF_PEERS. */
  agency: string
  /** Our procedure the dossier is opened under. */
  procedureCode: string
  /** The sender's dossier code and procedure, for the officers' view. */
  businessKey: string
  senderProcedureCode?: string
  applicant: Applicant
  variables: Record<string, unknown>
  documents: PeerDocument[]
}

/**
 * The receiving side of a peer handoff: the signature checked with the sending agency's key, then
 * every document's checksum, before anything is written; one dossier per (agency, handoff id), a
 * retried request answering the same dossier.
 */
export function createPeerIntakeService(deps: {
  db: Db
  clock: Clock
  peers: Readonly<Record<string, { key: string }>>
  maxAgeSeconds: number
  maxDocumentBytes: number
  repo: PeerHandoffRepository
  dossiers: DossierService
  documents: DocumentService
  documentRows: DocumentRepository
}) {
  const forged = () => new AppError('HANDOFF_SIGNATURE_INVALID', 'Chữ ký của hệ thống gửi hồ sơ liên thông không hợp lệ')
  const service = {
    async receive(
      raw: string,
      headers: { timestamp?: string; signature?: string },
      body: PeerDossierRequest,
    ): Promise<{ created: boolean; dossierId: string; dossierCode: string }> {
      const peer = deps.peers[body.agency]
      if (!peer || !headers.timestamp || !headers.signature) throw forged()
      if (!verifyBody(peer.key, headers.timestamp, raw, headers.signature)) throw forged()
      const age = Math.abs(deps.clock.now().getTime() / 1000 - Number(headers.timestamp))
      if (!/^\d{1,12}$/.test(headers.timestamp) || age > deps.maxAgeSeconds)
        throw new AppError('HANDOFF_TIMESTAMP_EXPIRED', `Yêu cầu đã quá ${deps.maxAgeSeconds} giây kể từ khi ký: không được chấp nhận`)
      return service.accept(body)
    },

    /** The request once its sender is known (signed, or our own deployment: src/peers/local-peer.ts). */
    async accept(body: PeerDossierRequest): Promise<{ created: boolean; dossierId: string; dossierCode: string }> {
      // Acting as the receiving system itself: the dossier is taken in like one received at the counter.
      const principal: Principal = { userId: `peer:${body.agency}`, roles: ['admin'], groups: [], agency: body.agency }
      const known = await deps.repo.find(deps.db, body.agency, body.handoffId).one()
      if (known) {
        const { dossier } = await deps.dossiers.get(principal, known.dossier_id)
        return { created: false, dossierId: dossier.id, dossierCode: dossier.code }
      }

      // Every document is checked before the dossier exists: a bad one creates nothing.
      const files = body.documents.map((d) => {
        const content = Buffer.from(d.content, 'base64')
        const sha256 = createHash('sha256').update(content).digest('hex')
        if (sha256 !== d.sha256.toLowerCase())
          throw new AppError(
            'PEER_DOCUMENT_CHECKSUM_MISMATCH',
            `Tài liệu "${d.fileName}" không khớp mã kiểm tra SHA-256 mà hệ thống gửi khai`,
            {
              fileName: d.fileName,
              declared: d.sha256,
              computed: sha256,
            },
          )
        const type = DOCUMENT_TYPES[d.contentType]
        if (!type || !type.magic.every((b, i) => content[i] === b))
          throw new AppError('DOCUMENT_TYPE_NOT_ALLOWED', `Tài liệu "${d.fileName}": loại tệp ${d.contentType} không được chấp nhận`)
        if (content.length === 0) throw new AppError('DOCUMENT_EMPTY', `Tài liệu "${d.fileName}" rỗng`)
        if (content.length > deps.maxDocumentBytes)
          throw new AppError('DOCUMENT_TOO_LARGE', `Tài liệu "${d.fileName}" vượt quá ${deps.maxDocumentBytes} byte`)
        return { fileName: d.fileName, contentType: d.contentType, content, sha256 }
      })

      const data = { ...body.variables, peerAgency: body.agency, peerBusinessKey: body.businessKey }
      // The handoff id is the submission's idempotency key: a request retried after a crash finds the dossier.
      const submitted = await deps.dossiers.submit(
        { ...principal },
        { procedureCode: body.procedureCode, applicant: body.applicant, channel: Channel.COUNTER, data },
        `peer-${body.handoffId}`,
      )
      const dossier = submitted.dossier
      const have = await deps.documentRows.list(deps.db, dossier.id)
      for (const f of files) {
        if (have.some((d) => d.sha256 === f.sha256 && d.file_name === f.fileName)) continue
        await deps.documents.upload(principal, dossier.id, {
          kind: 'submission',
          fileName: f.fileName,
          contentType: f.contentType,
          content: f.content,
        })
      }
      const now = deps.clock.now()
      await deps.repo.insert(deps.db, {
        id: randomUUID(),
        sender_agency: body.agency,
        handoff_id: body.handoffId,
        dossier_id: dossier.id,
        created_at: now,
        updated_at: now,
      })
      return { created: submitted.created, dossierId: dossier.id, dossierCode: dossier.code }
    },
  }
  return service
}
export type PeerIntakeService = ReturnType<typeof createPeerIntakeService>
