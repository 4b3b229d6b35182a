import { Type } from '@fastify/type-provider-typebox'
import { errorResponses, INPUT, JSON_BODY, STEP } from '../http/schemas.ts'
import { POSTAL_EVENTS } from './postal-tracking.service.ts'

/** One tracking event from the postal operator (docs/handoffs.md#postal-pickup-and-delivery). */
export const TrackingBody = Type.Object(
  {
    trackingNumber: Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$', description: 'Mã vận đơn the operator gave the order' }),
    event: Type.Union(
      POSTAL_EVENTS.map((e) => Type.Literal(e)),
      { description: 'accepted | picked_up | in_transit | delivered | returned_to_sender | failed' },
    ),
    at: Type.String({ format: 'date-time', description: 'When it happened' }),
    place: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'Post office or address' })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
)

export const trackingSchema = {
  tags: ['handoffs'],
  summary: "The postal operator's signed tracking event of a pickup or delivery order (no JWT: X-Tthc-Timestamp and X-Tthc-Signature)",
  body: TrackingBody,
  response: {
    200: Type.Object({
      trackingNumber: Type.String(),
      event: Type.String(),
      recorded: Type.Boolean({ description: 'false: a repeated or out-of-order event, nothing changed' }),
      state: Type.String({ description: "The order's handoff: waiting, completed, incident…" }),
      dossierStatus: Type.Optional(Type.String()),
    }),
    ...errorResponses(INPUT, JSON_BODY, STEP, 'HANDOFF_SIGNATURE_INVALID', 'HANDOFF_TIMESTAMP_EXPIRED', 'POSTAL_TRACKING_UNKNOWN'),
  },
}
