import type { Api } from '../http/schemas.ts'
import { keepRawJson, signedParts } from '../handoffs/signed-json.ts'
import type { PeerDossierRequest, PeerIntakeService } from './peer-intake.service.ts'
import { peerDossierSchema } from './peer.schemas.ts'

/** Peer deployments hand dossiers over here: no JWT, the signature covers the raw body, so this scope keeps it. */
export async function peerRoutes(app: Api, opts: { intake: PeerIntakeService; bodyLimit: number }) {
  keepRawJson(app, opts.bodyLimit)
  app.post('/api/peer/dossiers', { schema: peerDossierSchema, bodyLimit: opts.bodyLimit }, async (req, reply) => {
    const { raw, headers } = signedParts(req)
    const r = await opts.intake.receive(raw, headers, req.body as PeerDossierRequest)
    return reply.status(r.created ? 202 : 200).send({ dossierId: r.dossierId, dossierCode: r.dossierCode })
  })
}
