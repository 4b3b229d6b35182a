import { Type } from '@fastify/type-provider-typebox'
import { errorResponses, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'
import { variablesLimits } from '../validation/input-rules.ts'

const Variables = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), variablesLimits)
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' })

export const PeerDossierBody = Type.Object(
  {
    handoffId: Uuid,
    agency: Type.String({ minLength: 1, maxLength: 100, description: "The sending agency: its key in the receiver's HANDOFF_PEERS" }),
    procedureCode: Type.String({ minLength: 1, maxLength: 100, description: "The receiver's procedure" }),
    businessKey: Type.String({ minLength: 1, maxLength: 100, description: "The sender's dossier code" }),
    senderProcedureCode: Type.Optional(Type.String({ maxLength: 100 })),
    applicant: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 200 }),
        idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,20}$' }),
        phone: Type.Optional(Type.String({ pattern: '^[+0-9 ]{6,20}$' })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
        address: Type.Optional(Type.String({ maxLength: 500 })),
      },
      { additionalProperties: false },
    ),
    variables: Variables,
    documents: Type.Array(
      Type.Object(
        {
          fileName: Type.String({ minLength: 1, maxLength: 255 }),
          contentType: Type.String({ minLength: 1, maxLength: 100 }),
          sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
          content: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'The file, base64' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 50 },
    ),
  },
  { additionalProperties: false },
)

const Received = Type.Object({ dossierId: Type.String(), dossierCode: Type.String() })

export const peerDossierSchema = {
  tags: ['handoffs'],
  summary: 'A peer deployment hands a dossier over (no JWT: X-Tthc-Timestamp and X-Tthc-Signature with the sender’s key)',
  body: PeerDossierBody,
  response: {
    200: Received,
    202: Received,
    ...errorResponses(
      INPUT,
      JSON_BODY,
      STEP,
      'HANDOFF_SIGNATURE_INVALID',
      'HANDOFF_TIMESTAMP_EXPIRED',
      'PEER_DOCUMENT_CHECKSUM_MISMATCH',
      'DOCUMENT_TYPE_NOT_ALLOWED',
      'DOCUMENT_TOO_LARGE',
      'DOCUMENT_EMPTY',
      'PROCEDURE_NOT_FOUND',
      'CHANNEL_NOT_ALLOWED',
      'IDEMPOTENCY_KEY_REUSED',
    ),
  },
}
