import { AppError } from '../errors.ts'
import type { Api } from '../http/schemas.ts'
import type { DocumentRow } from './document.repository.ts'
import { DOCUMENT_TYPES, type DocumentService } from './document.service.ts'
import { downloadDocumentSchema, listDocumentsSchema, uploadDocumentSchema } from './document.schemas.ts'

export const documentDto = (d: DocumentRow) => ({
  id: d.id,
  kind: d.kind,
  documentCode: d.document_code,
  fileName: d.file_name,
  contentType: d.content_type,
  size: d.size,
  sha256: d.sha256,
  uploadedBy: d.uploaded_by,
  uploadedAt: d.uploaded_at,
})

/** Dossier documents: upload the raw file as the body (Content-Type = its type), list, download. */
export async function documentRoutes(app: Api, opts: { documents: DocumentService; maxBytes: number }) {
  app.addContentTypeParser(Object.keys(DOCUMENT_TYPES), { parseAs: 'buffer', bodyLimit: opts.maxBytes }, (_req, body, done) =>
    done(null, body),
  )

  app.post('/dossiers/:id/documents', { bodyLimit: opts.maxBytes, schema: uploadDocumentSchema }, async (req, reply) => {
    if (!Buffer.isBuffer(req.body))
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Gửi nội dung tệp làm thân yêu cầu với Content-Type: ${Object.keys(DOCUMENT_TYPES).join(', ')}`,
      )
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
    const row = await opts.documents.upload(req.principal, req.params.id, { ...req.query, contentType, content: req.body })
    return reply.status(201).send(documentDto(row))
  })

  app.get('/dossiers/:id/documents', { schema: listDocumentsSchema }, async (req) => {
    return { items: (await opts.documents.list(req.principal, req.params.id)).map(documentDto) }
  })

  app.get('/dossiers/:id/documents/:documentId', { schema: downloadDocumentSchema }, async (req, reply) => {
    const { id, documentId } = req.params
    const { row, content } = await opts.documents.download(req.principal, id, documentId)
    return reply
      .header('content-type', row.content_type)
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.file_name)}`)
      .header('x-content-type-options', 'nosniff')
      .header('etag', `"${row.sha256}"`)
      .header('digest', `sha-256=${Buffer.from(row.sha256, 'hex').toString('base64')}`)
      .send(content)
  })
}
