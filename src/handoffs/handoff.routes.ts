import type { Api } from '../http/schemas.ts'
import { keepRawJson, signedParts } from './signed-json.ts'
import type { CallbackBody, CallbackService } from './callback.service.ts'
import type { IncidentRow } from './incident.repository.ts'
import type { IncidentService } from './incident.service.ts'
import {
  callbackSchema,
  dossierHandoffsSchema,
  listIncidentsSchema,
  resolveIncidentSchema,
  retryIncidentSchema,
  supervisionHandoffsSchema,
} from './handoff.schemas.ts'
import type { HandoffViewService } from './handoff-view.service.ts'

export const incidentDto = (r: IncidentRow) => ({
  id: r.id,
  incidentType: r.type,
  incidentMessage: r.message,
  incidentTimestamp: r.created_at,
  activityId: r.activity_id,
  processInstanceId: r.instance_id,
  configuration: r.source_id,
  source: r.source,
  details: r.details,
  dossierId: r.dossier_id,
  procedureCode: r.procedure_code,
  agency: r.agency,
  receivingAgency: r.receiving_agency,
  state: r.state,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  note: r.note,
})

/** Incidents and the views of handoffs (under /api, with a JWT). */
export async function incidentRoutes(app: Api, opts: { incidents: IncidentService; views: HandoffViewService }) {
  app.get('/dossiers/:id/handoffs', { schema: dossierHandoffsSchema }, async (req) => opts.views.forDossier(req.principal, req.params.id))
  app.get('/supervision/handoffs', { schema: supervisionHandoffsSchema }, async (req) => opts.views.supervision(req.principal, req.query))
  app.get('/incidents', { schema: listIncidentsSchema }, async (req) => {
    const { cursor, ...q } = req.query
    const page = await opts.incidents.list(req.principal, { ...q, ...(cursor ? { cursor } : {}) })
    return { items: page.items.map(incidentDto), nextCursor: page.nextCursor }
  })
  app.post('/incidents/:id/retry', { schema: retryIncidentSchema }, async (req) =>
    incidentDto(await opts.incidents.retry(req.principal, req.params.id, req.body?.retries)),
  )
  app.post('/incidents/:id/resolve', { schema: resolveIncidentSchema }, async (req) =>
    incidentDto(await opts.incidents.resolve(req.principal, req.params.id, req.body.note)),
  )
}

/** Peers' signed callbacks: no JWT; the signature covers the raw body, so this scope keeps it. */
export async function handoffCallbackRoutes(app: Api, opts: { callbacks: CallbackService }) {
  keepRawJson(app)
  app.post('/api/handoffs/:id/callback', { schema: callbackSchema }, async (req) => {
    const { raw, headers } = signedParts(req)
    return opts.callbacks.receive(req.params.id, raw, headers, req.body as CallbackBody)
  })
}
