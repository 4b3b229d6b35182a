import type { Queryable } from '../db/knex.ts'

/** A file attached to a dossier (tài liệu): submission, supplement or result (kết quả điện tử). */
export interface DocumentRow {
  id: string
  dossier_id: string
  kind: 'submission' | 'supplement' | 'result'
  document_code: string | null
  file_name: string
  content_type: string
  size: number
  sha256: string
  storage_key: string
  uploaded_by: string
  uploaded_at: Date
}

export function createDocumentRepository() {
  return {
    async insert(q: Queryable, row: DocumentRow): Promise<void> {
      await q('documents').insert(row)
    },
    async find(q: Queryable, dossierId: string, id: string): Promise<DocumentRow | null> {
      const r = await q<DocumentRow>('documents').where({ dossier_id: dossierId, id }).first()
      return r ? { ...r, size: Number(r.size) } : null
    },
    async list(q: Queryable, dossierId: string): Promise<DocumentRow[]> {
      const rows = await q<DocumentRow>('documents')
        .where({ dossier_id: dossierId })
        .orderBy([{ column: 'uploaded_at' }, { column: 'id' }])
      return rows.map((r) => ({ ...r, size: Number(r.size) }))
    },
    async count(q: Queryable, dossierId: string, kind: DocumentRow['kind']): Promise<number> {
      const [r] = await q('documents').where({ dossier_id: dossierId, kind }).count('* as n')
      return Number(r!.n)
    },
  }
}
export type DocumentRepository = ReturnType<typeof createDocumentRepository>
