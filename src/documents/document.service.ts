import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Db } from '../db/knex.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../errors.ts'
import { hasRole, type Principal } from '../auth/principal.ts'
import type { DossierService } from '../dossiers/dossier.service.ts'
import type { DossierRow } from '../records/dossier.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import { FINAL_STATUSES, type DossierStatus } from '../records/statuses.ts'
import type { HistoryRepository } from '../records/history.repository.ts'
import type { DocumentRepository, DocumentRow } from './document.repository.ts'

/** Accepted file types, each with the bytes its content must start with (the declared type is checked, not trusted). */
export const DOCUMENT_TYPES: Record<string, { ext: string; magic: number[] }> = {
  'application/pdf': { ext: 'pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  'image/png': { ext: 'png', magic: [0x89, 0x50, 0x4e, 0x47] },
  'image/jpeg': { ext: 'jpg', magic: [0xff, 0xd8, 0xff] },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': { ext: 'docx', magic: [0x50, 0x4b, 0x03, 0x04] },
}

/**
 * Dossier documents (tài liệu hồ sơ): the applicant's files and the electronic result. Files are
 * stored under DOCUMENTS_DIR (never a served folder) by id, with their SHA-256; downloads are
 * authorised like the dossier itself.
 */
export function createDocumentService(deps: {
  db: Db
  clock: Clock
  dir: string
  maxBytes: number
  repo: DocumentRepository
  dossiers: DossierService
  history: HistoryRepository
  versions: ProcedureVersionCache
}) {
  const { db, clock } = deps

  function mayUpload(p: Principal, kind: DocumentRow['kind'], status: DossierStatus): void {
    const officer = hasRole(p, 'officer', 'admin')
    if (kind === 'result' && !officer) throw new AppError('FORBIDDEN', 'Chỉ cán bộ được đính kèm kết quả giải quyết')
    if (!officer && hasRole(p, 'supervisor')) throw new AppError('FORBIDDEN', 'Người giám sát không đính kèm tài liệu')
    if (FINAL_STATUSES.has(status)) throw new AppError('DOSSIER_CLOSED', 'Hồ sơ đã kết thúc, không đính kèm thêm tài liệu', { status })
  }

  /**
   * A document code names an item of the procedure's published document list (thành phần hồ sơ), as
   * supplement requests do; anything else is refused with the codes allowed. A file without a code
   * is accepted unclassified (the result, or an attachment the applicant adds).
   */
  async function assertPublishedCode(dossier: DossierRow, code: string | undefined): Promise<void> {
    if (code === undefined) return
    const published = (await deps.versions.get(db, dossier.procedure_version_id)).metadata.documents
    if (published.some((d) => d.code === code)) return
    const allowed = published.map((d) => d.code)
    throw new AppError(
      'DOCUMENT_CODE_UNKNOWN',
      `Mã giấy tờ "${code}" không có trong danh mục thành phần hồ sơ đã công bố của thủ tục; mã hợp lệ: ${allowed.join(', ') || '(không có)'}`,
      { documentCode: code, allowed },
    )
  }

  return {
    async upload(
      p: Principal,
      dossierId: string,
      input: { kind: DocumentRow['kind']; documentCode?: string; fileName: string; contentType: string; content: Buffer },
    ) {
      const { dossier } = await deps.dossiers.get(p, dossierId)
      mayUpload(p, input.kind, dossier.status as DossierStatus)
      await assertPublishedCode(dossier, input.documentCode)
      const type = DOCUMENT_TYPES[input.contentType]
      if (!type)
        throw new AppError(
          'DOCUMENT_TYPE_NOT_ALLOWED',
          `Loại tệp ${input.contentType} không được chấp nhận; chấp nhận: ${Object.keys(DOCUMENT_TYPES).join(', ')}`,
        )
      if (input.content.length === 0) throw new AppError('DOCUMENT_EMPTY', 'Tệp rỗng')
      if (input.content.length > deps.maxBytes) throw new AppError('DOCUMENT_TOO_LARGE', `Tệp vượt quá ${deps.maxBytes} byte`)
      if (!type.magic.every((b, i) => input.content[i] === b))
        throw new AppError('DOCUMENT_TYPE_NOT_ALLOWED', `Nội dung tệp không phải ${input.contentType}`)
      const id = randomUUID()
      const storageKey = path.join(dossier.id, `${id}.${type.ext}`)
      const file = path.join(deps.dir, storageKey)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      // Written under a temporary name and renamed: a crash never leaves half a file under a real id.
      fs.writeFileSync(`${file}.part`, input.content, { mode: 0o600 })
      fs.renameSync(`${file}.part`, file)
      const now = clock.now()
      const row: DocumentRow = {
        id,
        dossier_id: dossier.id,
        kind: input.kind,
        document_code: input.documentCode ?? null,
        file_name: input.fileName,
        content_type: input.contentType,
        size: input.content.length,
        sha256: createHash('sha256').update(input.content).digest('hex'),
        storage_key: storageKey,
        uploaded_by: p.userId,
        uploaded_at: now,
      }
      try {
        await db.transaction(async (tx) => {
          await deps.repo.insert(tx, row)
          await deps.history.append(tx, [
            {
              dossier_id: dossier.id,
              action: 'document.uploaded',
              actor: p.userId,
              details: { documentId: id, kind: row.kind, fileName: row.file_name, sha256: row.sha256, size: row.size },
              at: now,
            },
          ])
        })
      } catch (err) {
        fs.rmSync(file, { force: true })
        throw err
      }
      return row
    },

    async list(p: Principal, dossierId: string) {
      const { dossier } = await deps.dossiers.get(p, dossierId)
      return deps.repo.list(db, dossier.id)
    },

    async download(p: Principal, dossierId: string, documentId: string): Promise<{ row: DocumentRow; content: Buffer }> {
      const { dossier } = await deps.dossiers.get(p, dossierId)
      const row = await deps.repo.find(db, dossier.id, documentId)
      if (!row) throw new AppError('DOCUMENT_NOT_FOUND', `Không tìm thấy tài liệu ${documentId}`)
      const content = fs.readFileSync(path.join(deps.dir, row.storage_key))
      return { row, content }
    },
  }
}
export type DocumentService = ReturnType<typeof createDocumentService>
