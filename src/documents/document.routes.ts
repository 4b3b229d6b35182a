import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import type { DocumentRow } from './document.repository.ts'
import { DOCUMENT_TYPES, type DocumentService } from './document.service.ts'

export const documentDto = (d: DocumentRow) => ({
  id: d.id, kind: d.kind, documentCode: d.document_code, fileName: d.file_name, contentType: d.content_type, size: d.size, sha256: d.sha256, uploadedBy: d.uploaded_by, uploadedAt: d.uploaded_at,
})

/** Dossier documents: upload the raw file as the body (Content-Type = its type), list, download. */
export async function documentRoutes(app: FastifyInstance, opts: { documents: DocumentService; maxBytes: number }) {
  app.addContentTypeParser(Object.keys(DOCUMENT_TYPES), { parseAs: 'buffer', bodyLimit: opts.maxBytes }, (_req, body, done) => done(null, body))

  app.post('/dossiers/:id/documents', {
    bodyLimit: opts.maxBytes,
    schema: {
      tags: ['documents'],
      summary: 'Upload a file to a dossier (raw body; Content-Type application/pdf, image/png, image/jpeg or docx)',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({
        kind: Type.Union([Type.Literal('submission'), Type.Literal('supplement'), Type.Literal('result')], { default: 'submission' }),
        documentCode: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
        fileName: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\\\u0000-\\u001f]+$' }),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Gửi nội dung tệp làm thân yêu cầu với Content-Type: ${Object.keys(DOCUMENT_TYPES).join(', ')}`)
    const q = req.query as { kind: DocumentRow['kind']; documentCode?: string; fileName: string }
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim()
    const row = await opts.documents.upload(req.principal, (req.params as { id: string }).id, { ...q, contentType, content: req.body })
    return reply.status(201).send(documentDto(row))
  })

  app.get('/dossiers/:id/documents', { schema: { tags: ['documents'], params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (req) => {
    return { items: (await opts.documents.list(req.principal, (req.params as { id: string }).id)).map(documentDto) }
  })

  app.get('/dossiers/:id/documents/:documentId', { schema: { tags: ['documents'], summary: 'Download', params: Type.Object({ id: Type.String({ format: 'uuid' }), documentId: Type.String({ format: 'uuid' }) }) } }, async (req, reply) => {
    const { id, documentId } = req.params as { id: string; documentId: string }
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
