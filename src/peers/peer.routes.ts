import type { Api } from '../http/schemas.ts'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../handoffs/signature.ts'
import type { PeerDossierRequest, PeerIntakeService } from './peer-intake.service.ts'
import { peerDossierSchema } from './peer.schemas.ts'

/** Peer deployments hand dossiers over here: no JWT, the signature covers the raw body, so this scope keeps it. */
export async function peerRoutes(app: Api, opts: { intake: PeerIntakeService; bodyLimit: number }) {
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (req, body, done) => {
    req.rawBody = body as string
    try {
      done(null, JSON.parse(body as string))
    } catch (err) {
      ;(err as { statusCode?: number }).statusCode = 400
      done(err as Error, undefined)
    }
  })
  app.post('/api/peer/dossiers', { schema: peerDossierSchema, bodyLimit: opts.bodyLimit }, async (req, reply) => {
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
    const headers = { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) }
    const r = await opts.intake.receive(req.rawBody ?? '', headers, req.body as PeerDossierRequest)
    return reply.status(r.created ? 202 : 200).send({ dossierId: r.dossierId, dossierCode: r.dossierCode })
  })
}
