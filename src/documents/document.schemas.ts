import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, fileResponse, IdParam, INPUT, NullableString, Timestamp } from '../http/schemas.ts'
import { DOCUMENT_TYPES } from './document.service.ts'

/** A document as the API shows it (documentDto). */
const Document = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.Union([Type.Literal('submission'), Type.Literal('supplement'), Type.Literal('result')]),
  documentCode: NullableString,
  fileName: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  uploadedBy: Type.String(),
  uploadedAt: Timestamp,
})

export const uploadDocumentSchema = {
  tags: ['documents'],
  summary: 'Upload a file to a dossier (raw body; Content-Type application/pdf, image/png, image/jpeg or docx)',
  params: IdParam,
  querystring: Type.Object(
    {
      kind: Type.Union([Type.Literal('submission'), Type.Literal('supplement'), Type.Literal('result')], { default: 'submission' }),
      documentCode: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
      fileName: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\\\u0000-\\u001f]+$' }),
    },
    { additionalProperties: false },
  ),
  response: {
    201: Document,
    ...errorResponses(
      AUTH,
      INPUT,
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'FORBIDDEN',
      'DOSSIER_NOT_FOUND',
      'DOSSIER_CLOSED',
      'DOCUMENT_EMPTY',
      'DOCUMENT_TOO_LARGE',
      'DOCUMENT_TYPE_NOT_ALLOWED',
      'DOCUMENT_CODE_UNKNOWN',
    ),
  },
}

export const listDocumentsSchema = {
  tags: ['documents'],
  summary: "The dossier's documents",
  params: IdParam,
  response: { 200: Type.Object({ items: Type.Array(Document) }), ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND') },
}

export const downloadDocumentSchema = {
  tags: ['documents'],
  summary: 'Download, with ETag and Digest from its SHA-256',
  params: Type.Object({ id: Type.String({ format: 'uuid' }), documentId: Type.String({ format: 'uuid' }) }),
  response: {
    200: fileResponse('The file as uploaded', Object.keys(DOCUMENT_TYPES)),
    ...errorResponses(AUTH, INPUT, 'DOSSIER_NOT_FOUND', 'DOCUMENT_NOT_FOUND'),
  },
}
