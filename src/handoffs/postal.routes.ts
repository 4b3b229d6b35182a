import type { Api } from '../http/schemas.ts'
import type { PostalTrackingService, TrackingBody } from './postal-tracking.service.ts'
import { trackingSchema } from './postal.schemas.ts'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.ts'

/** The postal operator's signed tracking callbacks: no JWT; the signature covers the raw body, so this scope keeps it. */
export async function postalTrackingRoutes(app: Api, opts: { tracking: PostalTrackingService }) {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    req.rawBody = body as string
    try {
      done(null, JSON.parse(body as string))
    } catch (err) {
      ;(err as { statusCode?: number }).statusCode = 400
      done(err as Error, undefined)
    }
  })
  app.post('/api/postal/tracking', { schema: trackingSchema }, async (req) => {
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
    const headers = { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) }
    return opts.tracking.receive(req.rawBody ?? '', headers, req.body as TrackingBody)
  })
}
