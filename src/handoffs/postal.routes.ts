import type { Api } from '../http/schemas.ts'
import { keepRawJson, signedParts } from './signed-json.ts'
import type { PostalTrackingService, TrackingBody } from './postal-tracking.service.ts'
import { trackingSchema } from './postal.schemas.ts'

/** The postal operator's signed tracking callbacks: no JWT; the signature covers the raw body, so this scope keeps it. */
export async function postalTrackingRoutes(app: Api, opts: { tracking: PostalTrackingService }) {
  keepRawJson(app)
  app.post('/api/postal/tracking', { schema: trackingSchema }, async (req) => {
    const { raw, headers } = signedParts(req)
    return opts.tracking.receive(raw, headers, req.body as TrackingBody)
  })
}
